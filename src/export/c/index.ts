/**
 * The C back end: a graph becomes a self-contained C99 project (model.c,
 * weights.c, the engine's kernels, Makefile, main.c, README) for embedded
 * targets. Everything is generated in memory first, so a graph the back end
 * cannot handle writes nothing.
 */
import type { Graph } from '../ir.js';
import { emitModel } from './emit-model.js';
import { LINKER_SCRIPT, MAIN_C, STARTUP_C, makefile, readme } from './emit-project.js';
import { readKernelSources } from './kernel-sources.js';
import { planGraph } from './plan.js';
import { checkTarget, kernelSources, type CTarget } from './targets.js';
import { writeDirAtomic } from './write-dir.js';

export { C_TARGETS, type CTarget } from './targets.js';
export { checkSupported } from './plan.js';

export interface CProjectOptions {
  target?: CTarget;
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

function patternName(p: Graph['nodes'][number]): string {
  if (p.op !== 'conv' && p.op !== 'linear') return '';
  const pat = p.pattern;
  return pat.kind === 'uhp' ? `UHP ${pat.n}:${pat.m}:${pat.block}` : pat.kind;
}

/** The project's files, keyed by relative path; throws (DstError) before anything is written. */
export async function buildCProject(graph: Graph, options: CProjectOptions = {}): Promise<{ files: Map<string, string>; info: CProjectInfo }> {
  const target = checkTarget(options.target ?? 'generic');
  const plan = planGraph(graph);
  const model = emitModel(graph, plan, target);
  const kernels = await readKernelSources(kernelSources(target));
  const files = new Map(model.files);
  for (const [rel, text] of kernels) files.set(rel, text);
  files.set('main.c', MAIN_C);
  files.set('Makefile', makefile(target));
  files.set('startup_cortex_m.c', STARTUP_C);
  files.set('cortex-m.ld', LINKER_SCRIPT);
  const [c, h, w] = graph.inputShape;
  const [h0, w0] = graph.preprocess.cropFrom ?? [h, w];
  files.set('README.md', readme({
    target,
    inputShape: [c, h0, w0],
    netShape: [c, h, w],
    outputSize: plan.outputShape.reduce((a, b) => a * b, 1),
    weightBytes: model.weightBytes,
    arenaBytes: model.arenaBytes,
    scratchBytes: model.scratchBytes,
    layers: plan.nodes.filter((np) => np.conv).map((np) => ({ name: np.node.name, path: np.conv?.path ?? '', pattern: patternName(np.node) })),
    kernelFiles: [...kernels.keys()],
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

/** Entry point for `dst export --format c`: `target` comes unchecked from the command line. */
export async function exportC(graph: Graph, outDir: string, options: { target?: string } = {}): Promise<CProjectInfo> {
  return writeCProject(graph, outDir, { target: checkTarget(options.target ?? 'generic') });
}
