import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { ConfigError, DstError, ShapeError } from '../../errors.js';
import { denseWeightBytes, writeUhp } from '../../export/uhp-writer.js';
import { C_TARGETS, exportC } from '../../export/c/index.js';
import { writeFileAtomic } from '../../fsutil.js';
import { formatPattern, parsePattern } from '../../sparsity/pattern.js';
import { CALIBRATION_METHODS, DEFAULT_CALIBRATION_IMAGES, DEFAULT_CALIBRATION_METHOD, type CalibrationMethod } from '../../quant/ranges.js';
import type { Graph } from '../../export/ir.js';
import type { ModelFileInfo } from '../../train/model-file.js';
import { RunDir } from '../../train/run-dir.js';
import { positiveInt } from '../parse.js';
import { ProgressPrinter } from '../progress.js';

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

function quantize(value: string): 'int8' {
  if (value !== 'int8') throw new ConfigError('--quantize', `expected 'int8', got '${value}'`);
  return value;
}

function calibrationMethod(value: string): CalibrationMethod {
  if (!(CALIBRATION_METHODS as readonly string[]).includes(value)) {
    throw new ConfigError('--calibration-method', `expected ${CALIBRATION_METHODS.map((m) => `'${m}'`).join(', ')}, got '${value}'`);
  }
  return value as CalibrationMethod;
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

interface QuantizeOpts {
  run: string;
  quantize?: 'int8';
  calibration?: number;
  calibrationMethod?: CalibrationMethod;
  calibrationData?: string;
}

/** Calibration options without --quantize are a mistake the user should hear about before any work. */
function checkQuantizeOpts(opts: QuantizeOpts): void {
  if (opts.quantize) return;
  for (const [key, flag] of [['calibration', '--calibration'], ['calibrationMethod', '--calibration-method'], ['calibrationData', '--calibration-data']] as const) {
    if (opts[key] !== undefined) throw new ConfigError(flag, 'only applies with --quantize int8');
  }
}

const calibrationGiven = (opts: QuantizeOpts): boolean => opts.calibration !== undefined || opts.calibrationMethod !== undefined || opts.calibrationData !== undefined;

/** The activation grids a run's quantization-aware epochs trained with, when it had any (its summary says so). */
async function recordedRanges(run: string): Promise<string | null> {
  const runDir = new RunDir(run);
  if (!existsSync(runDir.summary)) return null;
  const quant = (await runDir.readSummary<{ quant?: { ranges?: unknown } }>()).quant;
  return typeof quant?.ranges === 'string' ? path.join(run, quant.ranges) : null;
}

/**
 * The graph quantized to int8: with the grids its quantization-aware epochs
 * trained with, or calibrated on the run's training images (or
 * --calibration-data) when it had none or a --calibration option is given.
 */
async function quantizeRun(graph: Graph, info: ModelFileInfo, opts: QuantizeOpts, print: (text: string) => void): Promise<{ graph: Graph; note: string }> {
  const recorded = await recordedRanges(opts.run);
  if (recorded !== null && !calibrationGiven(opts)) {
    const { quantizeWithRecorded, readRecordedRanges } = await import('../../quant/recorded-ranges.js');
    const ranges = await readRecordedRanges(recorded);
    const { method, images } = ranges.calibration;
    return { graph: quantizeWithRecorded(graph, ranges, recorded), note: `int8 with the ranges its quantization-aware epochs trained with (${path.basename(recorded)}: ${method} on ${images} images)` };
  }
  if (recorded !== null) print(`note: a --calibration option is given, so the ranges are calibrated anew instead of taken from ${recorded}, which the quantization-aware epochs trained with`);
  const [{ runCalibrationSet }, { checkQuantizable, quantizeGraph }] = await Promise.all([import('../../quant/run-data.js'), import('../../quant/quantize.js')]);
  checkQuantizable(graph);
  const progress = new ProgressPrinter();
  const label = opts.calibrationData === undefined ? '--calibration' : '--calibration-data';
  const set = await runCalibrationSet(opts.run, info, { count: opts.calibration ?? DEFAULT_CALIBRATION_IMAGES, spec: opts.calibrationData, label, onProgress: progress.data });
  const method = opts.calibrationMethod ?? DEFAULT_CALIBRATION_METHOD;
  const stage = `calibrating int8 (${method}) on ${set.count} training images of ${set.spec}`;
  const quantized = quantizeGraph(graph, set, { method, label, onProgress: (done, total, pass, passes) => progress.data({ stage: `${stage}, pass ${pass}/${passes}`, done, total }) });
  return { graph: quantized, note: `int8 calibrated (${method}) on ${set.count} images` };
}

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
    .option('--quantize <int8>', "int8: integer-only weights and activations (.uhp version 2; ONNX QuantizeLinear/DequantizeLinear); a run with quantization-aware epochs (recipe key quant) keeps the activation ranges they trained with unless --calibration, --calibration-method or --calibration-data is given, which then win", quantize)
    .option('--calibration <n>', `training images the activation ranges are calibrated on (default ${DEFAULT_CALIBRATION_IMAGES})`, positiveInt('--calibration'))
    .option(`--calibration-method <${CALIBRATION_METHODS.join('|')}>`, `how a range is chosen from the calibration statistics (default ${DEFAULT_CALIBRATION_METHOD})`, calibrationMethod)
    .option('--calibration-data <spec>', "data spec whose training split calibrates (default: the run's own data)")
    .action(async (opts: QuantizeOpts & { out: string; format: 'uhp' | 'onnx' | 'c'; target: string; ram?: number; pattern?: string; cropFrom?: [number, number] }) => {
      checkQuantizeOpts(opts);
      const requested = opts.pattern === undefined ? null : parsePattern(opts.pattern, '--pattern');
      const { describePatterns, graphOfRun } = await import('../../export/from-run.js');
      const run = await graphOfRun(opts.run, { pattern: requested, cropFrom: opts.cropFrom ?? null });
      const { info, pattern, patternLayers } = run;
      const { graph, note } = opts.quantize ? await quantizeRun(run.graph, info, opts, print) : { graph: run.graph, note: null };
      const shape = `${info.model} ${info.input.join('x')} -> ${info.classes.length} classes, ${graph.nodes.length} nodes${note ? `, ${note}` : ''}`;
      if (opts.format === 'onnx') {
        const { toOnnxModel } = await import('../../export/onnx.js');
        const bytes = toOnnxModel(graph);
        await writeFileAtomic(opts.out, bytes);
        print(`wrote ${opts.out}: ONNX opset 13${graph.quant ? ' in QDQ form (int8 weights, QuantizeLinear/DequantizeLinear on every value)' : ''}, ${kb(bytes.length)}, ${shape}`);
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
