/**
 * A pipeline as stages with dependencies, and a scheduler that runs them with
 * bounded concurrency: a student waits for the run it starts from and, when it
 * learns from one, for the teacher.
 */
import * as path from 'node:path';
import type { TrainRecipe } from '../train/recipe.js';
import { needsTeacher, type DistillRecipe, type Method } from './recipe.js';

/** The students one seed trains; `seed` undefined: the recipe's own seed, runs straight under the pipeline's folder. */
export interface Cohort {
  seed: number | undefined;
  dir: string;
  students: ReadonlyMap<Method, DistillRecipe>;
}

/** `teacher`, a method, or `seed-<s>/<method>` when the pipeline trains its students over several seeds. */
export type StageName = string;

export type PipelineStage =
  | { name: 'teacher'; method: 'teacher'; dir: string; command: 'train'; recipe: TrainRecipe; after: StageName[] }
  | { name: StageName; method: Method; dir: string; command: 'distill'; recipe: DistillRecipe; after: StageName[] };

export function stageName(cohort: Pick<Cohort, 'seed'>, method: Method): StageName {
  return cohort.seed === undefined ? method : `seed-${cohort.seed}/${method}`;
}

/** The teacher first, then each cohort's students in `order`, each with the stages it needs finished before it starts. */
export function pipelineStages(out: string, teacherRecipe: TrainRecipe, cohorts: readonly Cohort[], order: readonly Method[]): PipelineStage[] {
  const stages: PipelineStage[] = [{ name: 'teacher', method: 'teacher', dir: path.join(out, 'teacher'), command: 'train', recipe: teacherRecipe, after: [] }];
  for (const cohort of cohorts) {
    for (const method of order) {
      const recipe = cohort.students.get(method)!;
      const after: StageName[] = [];
      if (needsTeacher(method)) after.push('teacher');
      const initStage = order.find((m) => recipe.init !== undefined && path.resolve(cohort.dir, m) === path.resolve(recipe.init));
      if (initStage !== undefined) after.push(stageName(cohort, initStage));
      stages.push({ name: stageName(cohort, method), method, dir: path.join(cohort.dir, method), command: 'distill', recipe, after });
    }
  }
  return stages;
}

/**
 * Runs every stage once its dependencies are done, at most `parallel` at a
 * time, earlier stages first. The first failure aborts the running stages
 * (through the signal) and is rethrown once they have stopped.
 */
export async function runStages<S extends { name: string; after: readonly string[] }>(
  stages: readonly S[],
  parallel: number,
  run: (stage: S, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const pending = [...stages];
  const done = new Set<string>();
  const running = new Map<string, Promise<void>>();
  const abort = new AbortController();
  let failure: { error: unknown } | null = null;
  for (;;) {
    while (failure === null && running.size < parallel) {
      const next = pending.findIndex((s) => s.after.every((d) => done.has(d)));
      if (next < 0) break;
      const [stage] = pending.splice(next, 1) as [S];
      const settled = run(stage, abort.signal)
        .then(
          () => void done.add(stage.name),
          (error: unknown) => {
            if (failure === null) {
              failure = { error };
              abort.abort();
            }
          },
        )
        .finally(() => running.delete(stage.name));
      running.set(stage.name, settled);
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  if (failure !== null) throw (failure as { error: unknown }).error;
  if (pending.length > 0) throw new Error(`stages ${pending.map((s) => s.name).join(', ')} wait for stages that are not in the pipeline`);
}
