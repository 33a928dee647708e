/** Runs Cortex-M7 programs under QEMU's mps2-an500 board and reads what they print: scores and instructions. */
import * as path from 'node:path';
import { exec, has } from './helpers.js';

export const qemuTools = (): boolean => has('qemu-system-arm') && has('arm-none-eabi-gcc');

export interface QemuRun {
  scores: Float32Array;
  /** Instructions the inference executed (QEMU -icount), to 40; not cycles. */
  instructions: number;
  /** Wall time of the whole QEMU run, start-up and file reading included. */
  ms: number;
}

/** The "class score" lines and the "instructions N" line of main_qemu.c. */
export function parseQemuRun(stdout: string): Omit<QemuRun, 'ms'> {
  const lines = stdout.trim().split('\n');
  const last = /^instructions (\d+)$/.exec(lines.pop() ?? '');
  if (!last) throw new Error(`no instruction count in the program's output:\n${stdout}`);
  return { scores: Float32Array.from(lines, (line) => Number(line.split(' ')[1])), instructions: Number(last[1]) };
}

/** Runs a project built with TARGET=qemu-m7 on a raw image, through its Makefile's run target. */
export async function runQemuM7(projectDir: string, image: string): Promise<QemuRun> {
  const t0 = performance.now();
  const { stdout } = await exec('make', ['-s', '--no-print-directory', '-C', projectDir, 'TARGET=qemu-m7', 'run', `IMAGE=${path.resolve(image)}`], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { ...parseQemuRun(stdout), ms: performance.now() - t0 };
}
