import * as path from 'node:path';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { trainRecipeSchema, validateRecipe, type TrainRecipe } from '../train/recipe.js';
import { RunDir } from '../train/run-dir.js';
import { readRunSummary } from '../train/summary-file.js';
import { trainRun, type RunControl } from '../train/run.js';
import type { RunSummary } from '../train/summary.js';
import { SHARED, type PipelineRecipe } from './pipeline-recipe.js';
import { denseStart, distillRecipeSchema, METHODS, type DistillRecipe, type Method } from './recipe.js';
import { distillRun, resolvePattern } from './run.js';
import { runStageProcess } from './stage-process.js';
import { pipelineStages, runStages, stageName, type Cohort, type PipelineStage, type StageName } from './stages.js';
import { writeComparisonPlot } from '../plot/comparison-plot.js';
import type { ProcessGroup } from '../torch/distributed.js';

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
  /** Rows of a pipeline over several seeds: top1, top5 and CPU minutes are then the mean, the mean and the sum over these. */
  acrossSeeds?: { seeds: number[]; top1: number[]; top1Sd: number; runs: string[] };
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
  const seeds = rows.find((r) => r.acrossSeeds !== undefined)?.acrossSeeds?.seeds;
  // Over seeds top-1 is the mean (± sd from two seeds on), followed by one column with each seed's value.
  const spread = seeds !== undefined && seeds.length > 1;
  const top1 = (r: ComparisonRow): string[] => {
    if (seeds === undefined) return [pct(r.top1)];
    if (r.acrossSeeds === undefined) return [pct(r.top1), '-'];
    return [spread ? `${pct(r.top1)} ± ${pct(r.acrossSeeds.top1Sd)}` : pct(r.top1), r.acrossSeeds.top1.map(pct).join(' / ')];
  };
  const seedColumns = seeds === undefined ? ['top-1 %'] : [spread ? 'top-1 % (mean ± sd)' : 'top-1 %', `top-1 % of seed${spread ? 's' : ''} ${seeds.join(', ')}`];
  const header = ['method', 'model', ...seedColumns, 'top-5 %', 'params', 'non-zeros', 'sparsity %', 'pattern', 'uniform', 'MACs (effective)', 'CPU min'];
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(header),
    `|${'---|'.repeat(header.length)}`,
    ...rows.map((r) =>
      line([
        r.method,
        r.model,
        ...top1(r),
        pct(r.top5),
        m(r.params),
        m(r.nonZeros),
        (100 * r.sparsity).toFixed(1),
        r.pattern,
        r.uniform === null ? '-' : r.uniform ? 'yes' : 'NO',
        m(r.effectiveMacs),
        r.minutes.toFixed(1),
      ]),
    ),
  ].join('\n');
}

/** Sample standard deviation; 0 for a single value. */
function sampleSd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
}

/** One row per method from the same method's rows of every seed, in `seeds` order. */
export function acrossSeedsRow(seeds: readonly number[], perSeed: readonly ComparisonRow[]): ComparisonRow {
  const mean = (key: 'top1' | 'top5') => perSeed.reduce((a, r) => a + r[key], 0) / perSeed.length;
  const top1 = perSeed.map((r) => r.top1);
  return {
    ...perSeed[0]!,
    top1: mean('top1'),
    top5: mean('top5'),
    minutes: perSeed.reduce((a, r) => a + r.minutes, 0),
    acrossSeeds: { seeds: [...seeds], top1, top1Sd: sampleSd(top1), runs: perSeed.map((r) => r.run) },
  };
}

/**
 * The teacher's train recipe and each cohort's distill recipes, validated,
 * before anything runs: one cohort under `out` with the recipe's seed, or
 * one per entry of `seeds` under `out/seed-<s>`.
 */
export function resolvePipeline(recipe: PipelineRecipe, out: string): { teacherRecipe: TrainRecipe; cohorts: Cohort[] } {
  if (new Set(recipe.methods).size !== recipe.methods.length) throw new ConfigError('methods', 'lists a method twice');
  if (recipe.seeds !== undefined && recipe.student.seed !== undefined) throw new ConfigError('student.seed', 'cannot be set with seeds, which give the students theirs');
  const base = shared(recipe);
  const teacherRecipe = validateRecipe(trainRecipeSchema, { name: 'teacher', ...base, ...recipe.teacher }, '', 'teacher.');
  const cohortOf = (seed: number | undefined): Cohort => {
    const dir = seed === undefined ? out : path.join(out, `seed-${seed}`);
    const students = new Map<Method, DistillRecipe>();
    for (const method of recipe.methods) {
      const { sparsity, ...own } = recipe.student;
      // The student's `sparsity` is the UHP pattern of prune and dst; unstructured-kd keeps its own default.
      const pattern = method === 'prune' || method === 'dst' ? { sparsity } : {};
      const student = { name: method, ...base, ...(seed === undefined ? {} : { seed }), ...own, ...pattern, method, teacher: path.join(out, 'teacher') };
      const resolved = validateRecipe(distillRecipeSchema, student, '', 'student.');
      resolvePattern(resolved);
      const start = denseStart(resolved);
      students.set(method, start !== undefined && recipe.methods.includes(start) ? { ...resolved, init: path.join(dir, start) } : resolved);
    }
    return { seed, dir, students };
  };
  return { teacherRecipe, cohorts: recipe.seeds === undefined ? [cohortOf(undefined)] : recipe.seeds.map(cohortOf) };
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
  /**
   * Every stage data-parallel over this group, one after the other (each rank
   * of the group runs this same pipeline); rank 0 decides what is finished and
   * writes the runs and the comparison, the other ranks return no rows.
   */
  group?: ProcessGroup;
}

/**
 * `dst pipeline`: the teacher, then each student method on one dataset. Every
 * stage is its own run directory under `out`: resumed from its checkpoint if
 * interrupted, skipped if finished (unless `force`). Pruning methods start
 * from the pipeline's dense runs (prune from scratch, unstructured-kd from
 * kd, dst from its `dst.start`, kd by default) when those are in the method
 * list, so the dense students are trained once. With `parallel` > 1, stages
 * whose dependencies are done train side by side in child processes. Ends
 * with comparison.md, comparison.json and comparison.svg in `out`; with
 * `seeds`, the students of seed s train under `out/seed-<s>` with their own
 * comparison there, and `out`'s compares each method's mean over the seeds.
 */
export async function runPipeline(recipe: PipelineRecipe, out: string, control: PipelineControl = {}): Promise<{ rows: ComparisonRow[]; markdown: string }> {
  const { teacherRecipe, cohorts } = resolvePipeline(recipe, out);
  const order = METHODS.filter((m) => recipe.methods.includes(m));
  const stages = pipelineStages(out, teacherRecipe, cohorts, order);
  const group = control.group;
  if (group !== undefined && (control.parallel ?? 1) > 1) {
    throw new ConfigError('--parallel', 'cannot be combined with --nproc/--nnodes: with data-parallel ranks every stage uses all of them, one stage after the other');
  }
  const parallel = group !== undefined ? 1 : (control.parallel ?? recipe.parallel ?? 1);
  const force = Boolean(control.force);
  const stageControl: RunControl = { resume: !force, force, onEvent: control.onEvent, onDataProgress: control.onDataProgress, group };
  await runStages(stages, parallel, async (stage, signal) => {
    const finished = new RunDir(stage.dir).isFinished() && !force;
    if (group !== undefined ? group.shareFromRoot(finished) : finished) {
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

  if ((group?.rank ?? 0) !== 0) return { rows: [], markdown: '' };
  const title = recipe.name ?? path.basename(path.resolve(out));
  const teacher = await stageRow(stages[0]!);
  const byName = new Map(stages.map((s) => [s.name, s]));
  const cohortRows: ComparisonRow[][] = [];
  for (const cohort of cohorts) {
    const rows = [teacher];
    for (const method of order) rows.push(await stageRow(byName.get(stageName(cohort, method))!));
    cohortRows.push(rows);
  }
  const seeds = recipe.seeds;
  if (seeds === undefined) return writeComparison(out, cohortRows[0]!, title);
  for (const [i, cohort] of cohorts.entries()) await writeComparison(cohort.dir, cohortRows[i]!, `${title}, seed ${cohort.seed}`);
  const rows = [teacher, ...order.map((_, i) => acrossSeedsRow(seeds, cohortRows.map((r) => r[i + 1]!)))];
  return writeComparison(out, rows, `${title}, ${seeds.length} seeds`);
}

async function stageRow(stage: PipelineStage): Promise<ComparisonRow> {
  const summary = await readRunSummary(new RunDir(stage.dir));
  // A pruned run's CPU time includes the dense stage it started from.
  const dense = typeof summary.denseRun === 'string' ? await new RunDir(summary.denseRun).readSummary<RunSummary>().catch(() => null) : null;
  return row(stage.method, summary, stage.dir, dense ? dense.seconds / 60 : 0);
}

/** comparison.md, comparison.json and comparison.svg in `dir`. */
async function writeComparison(dir: string, rows: ComparisonRow[], title: string): Promise<{ rows: ComparisonRow[]; markdown: string }> {
  const markdown = comparisonMarkdown(rows);
  await writeFileAtomic(path.join(dir, 'comparison.md'), `${markdown}\n`);
  await writeFileAtomic(path.join(dir, 'comparison.json'), `${JSON.stringify(rows, null, 2)}\n`);
  await writeComparisonPlot(dir, rows, title);
  return { rows, markdown };
}
