import type { Command } from 'commander';
import { dstVersion } from '../../version.js';
import { cpuFacts } from '../cpu.js';

interface DoctorReport {
  dst: string;
  node: string;
  platform: string;
  cpu: ReturnType<typeof cpuFacts>;
  torch: { loaded: true; libtorch: string; onednn: boolean; openmp: boolean; threads: number; cpuCapability: string } | { loaded: false; error: string };
  /** Whether the addon has the c10d/Gloo bindings that `--nproc` and `--nnodes` need (null: the addon did not load). */
  distributed: boolean | null;
}

async function probeDistributed(): Promise<boolean | null> {
  try {
    const { distributedAvailable } = await import('../../torch/distributed.js');
    return distributedAvailable();
  } catch {
    return null;
  }
}

async function probeTorch(): Promise<DoctorReport['torch']> {
  try {
    const { versionInfo } = await import('../../torch/version.js');
    const v = versionInfo();
    return { loaded: true, libtorch: v.libtorch, onednn: v.onednn, openmp: v.openmp, threads: v.threads, cpuCapability: v.cpuCapability };
  } catch (err) {
    return { loaded: false, error: (err as Error).message };
  }
}

export function registerDoctor(program: Command, print: (text: string) => void): void {
  program
    .command('doctor')
    .description('print versions, CPU and whether the native addon loads: the first thing to run when something is wrong')
    .option('--json', 'print a JSON object instead of text')
    .action(async (opts: { json?: boolean }) => {
      const report: DoctorReport = {
        dst: dstVersion,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpu: cpuFacts(),
        torch: await probeTorch(),
        distributed: await probeDistributed(),
      };
      if (opts.json) {
        print(JSON.stringify(report, null, 2));
      } else {
        const t = report.torch;
        print(
          [
            `dst        ${report.dst}`,
            `node       ${report.node} (${report.platform})`,
            `cpu        ${report.cpu.model}, ${report.cpu.cores} cores, ${report.cpu.isa.join(' ') || 'no SIMD extensions found'}`,
            t.loaded
              ? `libtorch   ${t.libtorch}, oneDNN ${t.onednn ? 'yes' : 'no'}, OpenMP ${t.openmp ? 'yes' : 'no'}, kernels ${t.cpuCapability}, ${t.threads} intra-op thread(s)`
              : `libtorch   NOT LOADED: ${t.error}`,
            `addon      ${t.loaded ? 'ok' : 'failed'}`,
            `c10d/Gloo  ${
              report.distributed === null
                ? 'unknown (the addon did not load)'
                : report.distributed
                  ? 'yes: data-parallel training (--nproc, --nnodes) available'
                  : "no: the addon was built without Gloo's headers (Debian: libgloo-dev); install them and rebuild it for --nproc and --nnodes"
            }`,
          ].join('\n'),
        );
      }
      if (!report.torch.loaded) process.exitCode = 1;
    });
}
