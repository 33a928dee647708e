/**
 * The C back end: a graph becomes a self-contained C99 project for embedded
 * targets: the engine's own plan and packed weights as const tables
 * (model.c, weights.c), its run-time and kernel sources copied verbatim,
 * and the build files of native/project. Everything is generated in memory
 * first, so a graph the back end cannot handle writes nothing.
 */
import { ConfigError } from '../../errors.js';
import type { Graph } from '../ir.js';
import { emitModel } from './emit-model.js';
import { projectFiles, readme } from './emit-project.js';
import { readKernelSources } from './kernel-sources.js';
import { checkSupported } from './supported.js';
import { targetPlan } from './target-plan.js';
import { checkTarget, runtimeSources, type CTarget } from './targets.js';
import { writeDirAtomic } from './write-dir.js';

export { C_TARGETS, type CTarget } from './targets.js';
export { checkSupported } from './supported.js';
export { targetPlan } from './target-plan.js';

export interface CProjectOptions {
  target?: CTarget;
  /** Static RAM the target has for the model (arena and scratch), in bytes: a plan that needs more fails at export. */
  ramBytes?: number;
}

export interface CProjectInfo {
  target: CTarget;
  /** Paths written, relative to the project folder. */
  files: string[];
  /** Const weight data (values, pattern indices, offsets, biases), the model's share of flash. */
  weightBytes: number;
  /** Static RAM of the model: activation arena and index scratch. */
  arenaBytes: number;
  scratchBytes: number;
}

const PATHS = ['none', 'dense16', 'sparse16', 'sparse8', 'gather8', 'rows8', 'csr', 'depthwise', 'grouped'];

function patternName(p: Graph['nodes'][number]): string {
  if (p.op !== 'conv' && p.op !== 'linear') return '';
  const pat = p.pattern;
  return pat.kind === 'uhp' ? `UHP ${pat.n}:${pat.m}:${pat.block}` : pat.kind;
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

/** The project's files, keyed by relative path; throws (DstError) before anything is written. */
export async function buildCProject(graph: Graph, options: CProjectOptions = {}): Promise<{ files: Map<string, string>; info: CProjectInfo }> {
  const target = checkTarget(options.target ?? 'generic');
  checkSupported(graph);
  const plan = targetPlan(graph, target);
  const model = emitModel(graph, plan, target);
  const ram = model.arenaBytes + model.scratchBytes;
  if (options.ramBytes !== undefined && ram > options.ramBytes) {
    const peak = graph.nodes[plan.plan.peak_step as number]?.name ?? '?';
    throw new ConfigError('ram', `the model needs ${kib(ram)} of RAM (arena ${kib(model.arenaBytes)} + scratch ${kib(model.scratchBytes)}), more than the ${kib(options.ramBytes)} given; its peak is at layer '${peak}'`);
  }
  const runtime = await readKernelSources(runtimeSources(target, plan.plan.int8 === 1));
  const files = new Map(model.files);
  // kernels/ keeps its place; the layer loop and its headers go to runtime/, apart from the generated model.h
  const placed = (rel: string): string => (rel.startsWith('kernels/') ? rel : `runtime/${rel}`);
  for (const [rel, text] of runtime) files.set(placed(rel), text);
  for (const [rel, text] of projectFiles(target)) files.set(rel, text);
  const [c, h, w] = graph.inputShape;
  const [h0, w0] = graph.preprocess.cropFrom ?? [h, w];
  const out = plan.plan.out_shape as { c: number; h: number; w: number };
  files.set('README.md', readme({
    target,
    inputShape: [c, h0, w0],
    netShape: [c, h, w],
    outputSize: out.c * out.h * out.w,
    weightBytes: model.weightBytes,
    arenaBytes: model.arenaBytes,
    scratchBytes: model.scratchBytes,
    layers: graph.nodes.flatMap((node, i) => (node.op === 'conv' || node.op === 'linear' ? [{ name: node.name, path: `${plan.plan.int8 === 1 ? 'int8 ' : ''}${PATHS[plan.steps[i]!.path as number] ?? '?'}`, pattern: patternName(node) }] : [])),
    kernelFiles: [...runtime.keys()].map(placed),
    compact: plan.plan.compact === 1,
    int8: plan.plan.int8 === 1,
  }));
  return {
    files,
    info: { target, files: [...files.keys()], weightBytes: model.weightBytes, arenaBytes: model.arenaBytes, scratchBytes: model.scratchBytes },
  };
}

/** Writes the project into `outDir` atomically (built next to it, then renamed); replaces an earlier C export there. */
export async function writeCProject(graph: Graph, outDir: string, options: CProjectOptions = {}): Promise<CProjectInfo> {
  const { files, info } = await buildCProject(graph, options);
  await writeDirAtomic(outDir, files);
  return info;
}

/** Entry point for `dst export --format c`: options come unchecked from the command line. */
export async function exportC(graph: Graph, outDir: string, options: { target?: string; ramBytes?: number } = {}): Promise<CProjectInfo> {
  return writeCProject(graph, outDir, { target: checkTarget(options.target ?? 'generic'), ramBytes: options.ramBytes });
}
