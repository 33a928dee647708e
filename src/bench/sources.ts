/** What `dst bench` times: a run's model with its own patterns, or a .uhp file's graph. */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { readUhp } from '../export/read-uhp.js';
import { compileGraph } from '../export/run-graph.js';
import { layerPatterns, loadRunModel, modelGraph, withPatterns } from '../export/from-run.js';
import { weightLayers } from '../nn/inspect.js';
import { loadModel } from '../runtime/index.js';
import { benchModel, type BenchOptions, type BenchResult } from './bench.js';

export interface Measured {
  result: BenchResult;
  label: string;
  describe: Record<string, unknown>;
}

export async function benchRun(run: string, opts: BenchOptions): Promise<Measured> {
  const { model, info, file, masked, recordedPattern } = await loadRunModel(run);
  try {
    const patterns = layerPatterns(model, masked, recordedPattern ?? { kind: 'dense' });
    const graph = withPatterns(modelGraph(model, info.input), patterns);
    const layers = new Set(weightLayers(model).map((l) => l.name));
    const result = await benchModel({ model: model.eval(), modelBytes: statSync(file).size, graph, layers }, opts);
    return { result, label: `${run} (${info.model}, input ${info.input.join('x')})`, describe: { run, model: info.model, input: info.input } };
  } finally {
    model.dispose();
  }
}

export async function benchFile(file: string, opts: BenchOptions): Promise<Measured> {
  // The engine's reader validates the file before the TS decoder trusts it.
  (await loadModel(file)).dispose();
  const graph = readUhp(await readFile(file), file);
  const layers = new Set(graph.nodes.filter((n) => n.op === 'linear' || (n.op === 'conv' && n.groups === 1)).map((n) => n.name));
  const compiled = compileGraph(graph);
  try {
    const result = await benchModel({ model: compiled, modelBytes: null, graph, layers }, opts);
    result.notes.unshift('LibTorch and onnxruntime run the file\'s graph (BatchNorm folded) with its weights expanded to dense');
    return { result, label: `${file} (input ${graph.inputShape.join('x')})`, describe: { model: file, input: graph.inputShape } };
  } finally {
    compiled.dispose();
  }
}
