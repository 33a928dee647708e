/** Generated C for a Cortex-M7, linked with the generated start-up and linker script; flash and RAM from arm-none-eabi-size. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { build, exec, has, prunedModels, sections, slug } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dst-c-m7-'));
const rows: string[] = [];
afterAll(() => {
  if (rows.length > 0) console.log(`Cortex-M7 (arm-none-eabi-gcc -O3)\n| model | flash (text+rodata+data) | RAM (data+bss) |\n|---|---|---|\n${rows.join('\n')}`);
  rmSync(dir, { recursive: true, force: true });
});

const tools = has('arm-none-eabi-gcc') && has('arm-none-eabi-size');
if (!tools) console.warn('skipping the Cortex-M C export tests: arm-none-eabi-gcc is missing (apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)');

describe.skipIf(!tools)('generated C for Cortex-M7', () => {
  const flash = new Map<string, number>();
  for (const { name, graph } of prunedModels()) {
    it(`${name} builds and links with -mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard`, async () => {
      const d = await build(graph, path.join(dir, slug(name)), 'cortex-m', '-O3');
      const elf = path.join(d, 'build', 'cortex-m', 'model.elf');
      const s = await sections(elf);
      const get = (k: string): number => s.get(k) ?? 0;
      const f = get('.isr_vector') + get('.text') + get('.rodata') + get('.ARM.exidx') + get('.data');
      const ram = get('.data') + get('.bss');
      flash.set(name, f);
      rows.push(`| ${name} | ${(f / 1024).toFixed(1)} KiB | ${(ram / 1024).toFixed(1)} KiB |`);
      expect(get('.rodata')).toBeGreaterThan(0);
      /* The QEMU program's semihosting and printf stay out of the board image. */
      const { stdout: symbols } = await exec('arm-none-eabi-nm', [elf], { encoding: 'utf8' });
      expect(symbols).not.toMatch(/ (sh_\w+|_vfprintf_r|snprintf)$/m);
      /* Only the kernels the plan runs are linked (every layer of these models is pruned alike): never rows8. */
      const kernels = [...symbols.matchAll(/ dst_scalar_(\w+)$/gm)].map((m) => m[1]);
      expect(kernels).toEqual(name.includes('B16') ? ['sparse16'] : name.includes('B1') ? ['gather8'] : ['dense16']);
      const dense = flash.get(name.replace(/uhp.*$/, 'dense'));
      if (name.includes('B16') && dense) expect(f / dense).toBeLessThan(0.56);
    });
  }
});
