import * as path from 'node:path';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { trainRecipeSchema, validateRecipe, type TrainRecipe } from '../train/recipe.js';
import { RunDir } from '../train/run-dir.js';
import { trainRun, type RunControl } from '../train/run.js';
import type { RunSummary } from '../train/summary.js';
import { SHARED, type PipelineRecipe } from './pipeline-recipe.js';
import { denseStart, distillRecipeSchema, METHODS, type DistillRecipe, type Method } from './recipe.js';
import { distillRun, resolvePattern } from './run.js';
import { runStageProcess } from './stage-process.js';
import { pipelineStages, runStages, type StageName } from './stages.js';
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
    const { sparsity, ...own } = recipe.student;
    // The student's `sparsity` is the UHP pattern of prune and dst; unstructured-kd keeps its own default.
    const pattern = method === 'prune' || method === 'dst' ? { sparsity } : {};
    const student = { name: method, ...base, ...own, ...pattern, method, teacher: path.join(out, 'teacher') };
    const resolved = validateRecipe(distillRecipeSchema, student, '', 'student.');
    resolvePattern(resolved);
    const start = denseStart(resolved);
    students.set(method, start !== undefined && recipe.methods.includes(start) ? { ...resolved, init: path.join(out, start) } : resolved);
  }
  return { teacherRecipe, students };
}

export interface PipelineControl {
  /** Retrain every stage even if finished. */
  force?: boolean;
  /** Stages trained at the same time, each in its own process with its share of the threads (default: the recipe's `parallel`, else 1). */
  parallel?: number;
  onStage?: (name: StageName, state: 'skip' | 'run') => void;
  /** In-process stages (parallel 1): their training events. */
  onEvent?: RunControl['onEvent'];
  onDataProgress?: RunControl['onDataProgress'];
  /** Stages in their own processes (parallel > 1): each line of their progress. */
  onStageLine?: (name: StageName, line: string) => void;
}

/**
 * `dst pipeline`: the teacher, then each student method on one dataset. Every
 * stage is its own run directory under `out`: resumed from its checkpoint if
 * interrupted, skipped if finished (unless `force`). Pruning methods start
 * from the pipeline's dense runs (prune from scratch, unstructured-kd from
 * kd, dst from its `dst.start`, kd by default) when those are in the method
 * list, so the dense students are trained once. With `parallel` > 1, stages
 * whose dependencies are done train side by side in child processes. Ends with comparison.md, comparison.json
 * and comparison.svg in `out`.
 */
export async function runPipeline(recipe: PipelineRecipe, out: string, control: PipelineControl = {}): Promise<{ rows: ComparisonRow[]; markdown: string }> {
  const { teacherRecipe, students } = resolvePipeline(recipe, out);
  const order = METHODS.filter((m) => recipe.methods.includes(m));
  const stages = pipelineStages(out, teacherRecipe, students, order);
  const parallel = control.parallel ?? recipe.parallel ?? 1;
  const force = Boolean(control.force);
  const stageControl: RunControl = { resume: !force, force, onEvent: control.onEvent, onDataProgress: control.onDataProgress };
  await runStages(stages, parallel, async (stage, signal) => {
    if (new RunDir(stage.dir).isFinished() && !force) {
      control.onStage?.(stage.name, 'skip');
      return;
    }
    control.onStage?.(stage.name, 'run');
    if (parallel > 1) {
      const threads = Math.max(1, Math.floor(stage.recipe.threads / parallel));
      await runStageProcess(stage, { threads, force, signal, onLine: (line) => control.onStageLine?.(stage.name, line) });
    } else if (stage.command === 'train') {
      await trainRun(stage.recipe, stage.dir, stageControl);
    } else {
      await distillRun(stage.recipe, stage.dir, stageControl);
    }
  });

  const rows: ComparisonRow[] = [];
  for (const stage of stages) {
    const summary = await new RunDir(stage.dir).readSummary<RunSummary>();
    // A pruned run's CPU time includes the dense stage it started from.
    const dense = typeof summary.denseRun === 'string' ? await new RunDir(summary.denseRun).readSummary<RunSummary>().catch(() => null) : null;
    rows.push(row(stage.name, summary, stage.dir, dense ? dense.seconds / 60 : 0));
  }
  const markdown = comparisonMarkdown(rows);
  await writeFileAtomic(path.join(out, 'comparison.md'), `${markdown}\n`);
  await writeFileAtomic(path.join(out, 'comparison.json'), `${JSON.stringify(rows, null, 2)}\n`);
  await writeComparisonPlot(out, rows, recipe.name ?? path.basename(path.resolve(out)));
  return { rows, markdown };
}
