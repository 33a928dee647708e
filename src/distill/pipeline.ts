import * as path from 'node:path';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { trainRecipeSchema, validateRecipe, type TrainRecipe } from '../train/recipe.js';
import { RunDir } from '../train/run-dir.js';
import { trainRun, type RunControl } from '../train/run.js';
import type { RunSummary } from '../train/summary.js';
import { SHARED, type PipelineRecipe } from './pipeline-recipe.js';
import { distillRecipeSchema, METHODS, type DistillRecipe, type Method } from './recipe.js';
import { distillRun, resolvePattern } from './run.js';
import { writeComparisonPlot } from '../plot/comparison-plot.js';

export interface ComparisonRow {
  method: Method | 'teacher';
  model: string;
  top1: number;
  top5: number;
  params: number;
  nonZeros: number;
  sparsity: number;
  pattern: string;
  uniform: boolean | null;
  denseMacs: number;
  effectiveMacs: number;
  minutes: number;
  run: string;
}

function shared(recipe: PipelineRecipe): Record<string, unknown> {
  return Object.fromEntries(SHARED.filter((k) => recipe[k] !== undefined).map((k) => [k, recipe[k]]));
}

function row(method: ComparisonRow['method'], summary: RunSummary, run: string, extraMinutes = 0): ComparisonRow {
  return {
    method,
    model: summary.model,
    top1: summary.top1,
    top5: summary.top5,
    params: summary.params,
    nonZeros: summary.nonZeros,
    sparsity: summary.sparsity,
    pattern: typeof summary.pattern === 'string' ? summary.pattern : 'dense',
    uniform: summary.uniform,
    denseMacs: summary.denseMacs,
    effectiveMacs: summary.effectiveMacs,
    minutes: summary.seconds / 60 + extraMinutes,
    run,
  };
}

export function comparisonMarkdown(rows: readonly ComparisonRow[]): string {
  const pct = (v: number) => `${(100 * v).toFixed(2)}`;
  const m = (v: number) => `${(v / 1e6).toFixed(2)}M`;
  const lines = [
    '| method | model | top-1 % | top-5 % | params | non-zeros | sparsity % | pattern | uniform | MACs (effective) | CPU min |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.method} | ${r.model} | ${pct(r.top1)} | ${pct(r.top5)} | ${m(r.params)} | ${m(r.nonZeros)} | ${(100 * r.sparsity).toFixed(1)} | ${r.pattern} | ${r.uniform === null ? '-' : r.uniform ? 'yes' : 'NO'} | ${m(r.effectiveMacs)} | ${r.minutes.toFixed(1)} |`,
    ),
  ];
  return lines.join('\n');
}

/** The teacher's train recipe and each method's distill recipe, validated, before anything runs. */
export function resolvePipeline(recipe: PipelineRecipe, out: string): { teacherRecipe: TrainRecipe; students: Map<Method, DistillRecipe> } {
  if (new Set(recipe.methods).size !== recipe.methods.length) throw new ConfigError('methods', 'lists a method twice');
  const base = shared(recipe);
  const teacherRecipe = validateRecipe(trainRecipeSchema, { name: 'teacher', ...base, ...recipe.teacher }, '', 'teacher.');
  const students = new Map<Method, DistillRecipe>();
  for (const method of recipe.methods) {
    const init =
      method === 'prune' && recipe.methods.includes('scratch')
        ? path.join(out, 'scratch')
        : (method === 'dst' || method === 'unstructured-kd') && recipe.methods.includes('kd')
          ? path.join(out, 'kd')
          : undefined;
    const { sparsity, ...own } = recipe.student;
    // The student's `sparsity` is the UHP pattern of prune and dst; unstructured-kd keeps its own default.
    const pattern = method === 'prune' || method === 'dst' ? { sparsity } : {};
    const student = { name: method, ...base, ...own, ...pattern, method, teacher: path.join(out, 'teacher'), ...(init ? { init } : {}) };
    const resolved = validateRecipe(distillRecipeSchema, student, '', 'student.');
    resolvePattern(resolved);
    students.set(method, resolved);
  }
  return { teacherRecipe, students };
}

/**
 * `dst pipeline`: the teacher, then each student method on one dataset. Every
 * stage is its own run directory under `out`: resumed from its checkpoint if
 * interrupted, skipped if finished. Pruning methods start from the pipeline's
 * dense runs (prune from scratch, unstructured-kd and dst from kd) when those
 * are in the method list, so the dense students are trained once.
 */
export async function runPipeline(recipe: PipelineRecipe, out: string, control: RunControl & { onStage?: (name: string, state: 'skip' | 'run') => void } = {}): Promise<{ rows: ComparisonRow[]; markdown: string }> {
  const { teacherRecipe, students } = resolvePipeline(recipe, out);

  const rows: ComparisonRow[] = [];
  const stage = async <T>(name: string, dir: string, runIt: () => Promise<T>): Promise<RunSummary> => {
    const runDir = new RunDir(dir);
    if (runDir.isFinished() && !control.force) {
      control.onStage?.(name, 'skip');
      return runDir.readSummary<RunSummary>();
    }
    control.onStage?.(name, 'run');
    await runIt();
    return runDir.readSummary<RunSummary>();
  };
  const stageControl = { ...control, resume: true, force: false };
  const teacherDir = path.join(out, 'teacher');
  rows.push(row('teacher', await stage('teacher', teacherDir, () => trainRun(teacherRecipe, teacherDir, stageControl)), teacherDir));
  const order = METHODS.filter((m) => recipe.methods.includes(m));
  for (const method of order) {
    const dir = path.join(out, method);
    const summary = await stage(method, dir, () => distillRun(students.get(method)!, dir, stageControl));
    // A pruned run's CPU time includes the dense stage it started from.
    const dense = typeof summary.denseRun === 'string' ? await new RunDir(summary.denseRun).readSummary<RunSummary>().catch(() => null) : null;
    rows.push(row(method, summary, dir, dense ? dense.seconds / 60 : 0));
  }
  const markdown = comparisonMarkdown(rows);
  await writeFileAtomic(path.join(out, 'comparison.md'), `${markdown}\n`);
  await writeFileAtomic(path.join(out, 'comparison.json'), `${JSON.stringify(rows, null, 2)}\n`);
  await writeComparisonPlot(out, rows, recipe.name ?? path.basename(path.resolve(out)));
  return { rows, markdown };
}
