import type { Command } from 'commander';
import { ConfigError, DstError, ShapeError } from '../../errors.js';
import { denseWeightBytes, writeUhp } from '../../export/uhp-writer.js';
import { C_TARGETS, exportC } from '../../export/c/index.js';
import { writeFileAtomic } from '../../fsutil.js';
import { formatPattern, parsePattern } from '../../sparsity/pattern.js';

function size(value: string): [number, number] {
  const m = /^(\d+)(?:x(\d+))?$/.exec(value.trim());
  if (!m) throw new ConfigError('--crop-from', `expected HxW or a single size, got '${value}'`);
  const h = Number(m[1]);
  return [h, m[2] === undefined ? h : Number(m[2])];
}

/** A RAM size: bytes, or with K/KiB or M/MiB (1024-based). */
function ramSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|kib|m|mib)?$/i.exec(value.trim());
  if (!m) throw new ConfigError('--ram', `expected a size such as 256K, 1M or 65536 (bytes), got '${value}'`);
  const unit = (m[2] ?? '').toLowerCase();
  return Math.floor(Number(m[1]) * (unit.startsWith('m') ? 1024 * 1024 : unit.startsWith('k') ? 1024 : 1));
}

function format(value: string): 'uhp' | 'onnx' | 'c' {
  if (value !== 'uhp' && value !== 'onnx' && value !== 'c') throw new ConfigError('--format', `expected 'uhp', 'onnx' or 'c', got '${value}'`);
  return value;
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

export function registerExport(program: Command, print: (text: string) => void): void {
  program
    .command('export')
    .description("export a run's model for deployment: .uhp for dst's engine (compact sparse weights) or ONNX (dense)")
    .requiredOption('--run <dir>', 'run directory holding model.safetensors')
    .requiredOption('--out <file>', 'file to write')
    .option('--format <uhp|onnx|c>', 'output format (c: a standalone C99 project folder)', format, 'uhp')
    .option(`--target <${C_TARGETS.join('|')}>`, 'kernels and build defaults of a C project (--format c; qemu-m7 runs on an emulated Cortex-M7)', 'generic')
    .option('--ram <size>', "static RAM the C project may use (arena and scratch), e.g. 256K: a model that needs more fails here, naming its peak layer", ramSize)
    .option('--pattern <spec>', "sparsity pattern of the pruned layers, e.g. 'uhp:2:4:16' (default: the run's own, else dense)")
    .option('--crop-from <HxW>', 'size of the images fed to the .uhp model when the test pipeline centre-crops', size)
    .action(async (opts: { run: string; out: string; format: 'uhp' | 'onnx' | 'c'; target: string; ram?: number; pattern?: string; cropFrom?: [number, number] }) => {
      const requested = opts.pattern === undefined ? null : parsePattern(opts.pattern, '--pattern');
      const { describePatterns, graphOfRun } = await import('../../export/from-run.js');
      const { graph, info, pattern, patternLayers } = await graphOfRun(opts.run, { pattern: requested, cropFrom: opts.cropFrom ?? null });
      const shape = `${info.model} ${info.input.join('x')} -> ${info.classes.length} classes, ${graph.nodes.length} nodes`;
      if (opts.format === 'onnx') {
        const { toOnnxModel } = await import('../../export/onnx.js');
        const bytes = toOnnxModel(graph);
        await writeFileAtomic(opts.out, bytes);
        print(`wrote ${opts.out}: ONNX opset 13, ${kb(bytes.length)}, ${shape}`);
        if (pattern.kind !== 'dense') print(`note: ONNX has no N:M format; the ${formatPattern(pattern)} layers are stored dense with their zeros`);
        print('input: the normalised [N, C, H, W] tensor (preprocessing is not part of the ONNX graph)');
        return;
      }
      if (opts.format === 'c') {
        const c = await exportC(graph, opts.out, { target: opts.target, ramBytes: opts.ram });
        print(`wrote ${opts.out}/: C99 project for ${c.target}, ${kb(c.weightBytes)} const weights, ${kb(c.arenaBytes + c.scratchBytes)} static RAM, ${shape}`);
        print(`build: make -C ${opts.out} (see its README.md for other targets)`);
        return;
      }
      let bytes: Uint8Array;
      try {
        bytes = writeUhp(graph);
      } catch (err) {
        if (err instanceof ShapeError && pattern.kind !== 'dense') {
          throw new DstError('E_PATTERN', `the weights do not satisfy ${formatPattern(pattern)} (prune the model to it first): ${err.message}`);
        }
        throw err;
      }
      await writeFileAtomic(opts.out, bytes);
      const ratio = bytes.length / denseWeightBytes(graph);
      print(`wrote ${opts.out}: ${kb(bytes.length)} (${ratio.toFixed(2)}x the dense fp32 weights), ${shape}, ${describePatterns(pattern, patternLayers)}`);
      const pre = graph.preprocess;
      const crop = pre.cropFrom ? `centre crop from ${pre.cropFrom.join('x')}, ` : '';
      print(`input: [C, H, W] images as toFloat leaves them; ${crop}${pre.mean ? 'normalised by the run\'s mean/std' : 'no normalisation'}`);
      if (!pre.cropFrom && info.transforms.some((t) => t.op === 'centerCrop')) {
        print(`note: the test pipeline centre-crops; images must arrive as ${info.input.slice(1).join('x')} crops (give --crop-from HxW to embed the crop)`);
      }
    });
}
