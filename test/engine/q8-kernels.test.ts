/**
 * The SIMD int8 conv kernels (native/engine/kernels/q8_avx2.c, q8_neon.c) and AVX2's add
 * against the scalar conv and the portable add, outside the engine, through test/engine/q8-kernels-driver.c:
 * random tasks (odd and even entry counts, 1..16 valid lanes, pixel and row
 * strides, tails, extreme codes, any shift) must give the same output bytes.
 * AVX2 runs natively (and under ASan), NEON cross-compiled for AArch64 under
 * qemu-aarch64 (with and without the dot-product extension, and under ASan),
 * and the scalar kernel's SMLAD variant on 32-bit Arm under qemu-arm must hash
 * its outputs as the generic C build does. test/engine/int8.test.ts covers
 * the kernels inside the engine.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const kernels = path.join(root, 'native', 'engine', 'kernels');
const driver = path.join(root, 'test', 'engine', 'q8-kernels-driver.c');
const dir = mkdtempSync(path.join(tmpdir(), 'dst-q8-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = promisify(execFile);
const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
/* The flags the addon and the generated C projects build kernel files with. */
const strict = ['-std=c99', '-O3', '-Wall', '-Wextra', '-Werror', `-I${kernels}`];
const k = (f: string): string => path.join(kernels, f);
/* Each SIMD file compiles to nothing off its architecture, so every build takes all three. */
const q8Sources = ['q8_scalar.c', 'q8_avx2.c', 'q8_neon.c', 'ops_q8.c'].map(k);

async function build(cc: string, name: string, flags: string[]): Promise<string> {
  const bin = path.join(dir, name);
  await run(cc, [...strict, ...flags, '-o', bin, driver, ...q8Sources]);
  return bin;
}

async function output(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await run(cmd, args, { encoding: 'utf8', timeout: 240_000 });
  return stdout;
}

const x86 = process.arch === 'x64';
const cross = has('aarch64-linux-gnu-gcc') && has('qemu-aarch64');
const arm32 = has('arm-none-eabi-gcc') && has('qemu-arm');

describe('int8 conv kernels', () => {
  const compilers = ['gcc', 'clang'].filter(has);
  it.skipIf(!x86 || compilers.length === 0)(`AVX2 gives the scalar kernel's bytes on 20,000 random tasks (${compilers.join(', ')}; as the addon builds it and with -mavx2)`, async () => {
    const builds = compilers.flatMap((cc) => [
      [cc, `avx2-${cc}`, []],
      [cc, `avx2-${cc}-mavx2`, ['-mavx2', '-mfma']],
    ] as [string, string, string[]][]);
    const outs = await Promise.all(builds.map(async ([cc, name, flags], i) => output(await build(cc, name, flags), ['check', '20000', String(i + 1)])));
    if (outs.some((o) => o.startsWith('skipped'))) console.warn(`AVX2 kernel not run: ${outs[0].trim()}`);
    for (const out of outs) expect(out).toMatch(/^(20000 tasks: avx2 matches scalar bit for bit\n5000 adds: avx2 matches the portable add bit for bit|skipped: this CPU has no avx2)\n$/);
  }, 300_000);

  it.skipIf(!x86 || !has('gcc'))('AVX2 reads and writes nothing outside its task (ASan + UBSan)', async () => {
    const bin = path.join(dir, 'avx2-san');
    await run('gcc', ['-std=c99', '-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-Wall', '-Wextra', '-Werror', `-I${kernels}`, '-o', bin, driver, ...q8Sources]);
    expect(await output(bin, ['check', '4000', '11'])).toMatch(/^(4000 tasks: avx2 matches scalar bit for bit\n1000 adds: avx2 matches the portable add bit for bit|skipped: this CPU has no avx2)\n$/);
  }, 300_000);

  it.skipIf(!cross)("NEON gives the scalar kernel's bytes under qemu-aarch64: smlal (Armv8.0) and sdot (+dotprod)", async () => {
    const builds: [string, string][] = [
      ['neon', 'armv8-a'],
      ['neon+dotprod', 'armv8.2-a+dotprod'],
    ];
    await Promise.all(builds.map(async ([name, march], i) => {
      const bin = await build('aarch64-linux-gnu-gcc', `neon-${i}`, ['-static', `-march=${march}`]);
      expect(await output('qemu-aarch64', [bin, 'check', '10000', String(20 + i)])).toBe(`10000 tasks: ${name} matches scalar bit for bit\n`);
    }));
  }, 300_000);
  if (!cross) console.warn('skipping the NEON int8 kernel test: aarch64-linux-gnu-gcc and qemu-aarch64 are not installed');

  // ASan needs the target's shared libraries, which qemu finds under the cross sysroot.
  const sysroot = '/usr/aarch64-linux-gnu';
  const crossAsan = cross && existsSync(path.join(sysroot, 'lib', 'libasan.so.8'));
  it.skipIf(!crossAsan)('NEON with sdot windows reads and writes nothing outside its task (ASan under qemu-aarch64)', async () => {
    const bin = path.join(dir, 'neon-san');
    await run('aarch64-linux-gnu-gcc', ['-std=c99', '-O1', '-g', '-march=armv8.2-a+dotprod', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-Wall', '-Wextra', '-Werror', `-I${kernels}`, '-o', bin, driver, ...q8Sources]);
    // LeakSanitizer cannot run under qemu's ptrace-like tracing; leaks are not what this checks.
    const { stdout } = await run('qemu-aarch64', ['-L', sysroot, bin, 'check', '3000', '31'], { encoding: 'utf8', timeout: 240_000, env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } });
    expect(stdout).toBe('3000 tasks: neon+dotprod matches scalar bit for bit\n');
  }, 300_000);
  if (cross && !crossAsan) console.warn(`skipping the NEON ASan test: no AArch64 libasan under ${sysroot}`);

  it.skipIf(!arm32 || !has('gcc'))("the scalar kernel's SMLAD variant (32-bit Arm under qemu-arm) computes what its generic C does; it builds for Cortex-M7", async () => {
    // Cortex-A7 in Arm state has the same DSP instructions as a Cortex-M7 and runs under qemu-arm with semihosting (an M-profile binary needs a board).
    const v7 = await build('arm-none-eabi-gcc', 'scalar-armv7', ['-mcpu=cortex-a7', '-marm', '-mfloat-abi=soft', '--specs=rdimon.specs']);
    const host = await build('gcc', 'scalar-host', []);
    const [arm, generic] = await Promise.all([output('qemu-arm', [v7, 'digest', '4000', '5']), output(host, ['digest', '4000', '5'])]);
    expect(arm).toMatch(/^4000 tasks: scalar digest [0-9a-f]{8}\n$/);
    expect(arm).toBe(generic);
    await run('arm-none-eabi-gcc', [...strict, '-mcpu=cortex-m7', '-mthumb', '-mfpu=fpv5-d16', '-mfloat-abi=hard', '-c', '-o', path.join(dir, 'q8_scalar-m7.o'), k('q8_scalar.c')]);
  }, 300_000);
  if (!arm32) console.warn('skipping the 32-bit Arm SMLAD check: arm-none-eabi-gcc and qemu-arm are not installed');
});
