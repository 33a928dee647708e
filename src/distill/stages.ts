/**
 * A pipeline as stages with dependencies, and a scheduler that runs them with
 * bounded concurrency: a student waits for the run it starts from and, when it
 * learns from one, for the teacher.
 */
import * as path from 'node:path';
import type { TrainRecipe } from '../train/recipe.js';
import { needsTeacher, type DistillRecipe, type Method } from './recipe.js';

export type StageName = 'teacher' | Method;

export type PipelineStage =
  | { name: 'teacher'; dir: string; command: 'train'; recipe: TrainRecipe; after: StageName[] }
  | { name: Method; dir: string; command: 'distill'; recipe: DistillRecipe; after: StageName[] };

/** The teacher first, then the students in `order`, each with the stages it needs finished before it starts. */
export function pipelineStages(out: string, teacherRecipe: TrainRecipe, students: ReadonlyMap<Method, DistillRecipe>, order: readonly Method[]): PipelineStage[] {
  const dirOf = (name: StageName) => path.join(out, name);
  const stages: PipelineStage[] = [{ name: 'teacher', dir: dirOf('teacher'), command: 'train', recipe: teacherRecipe, after: [] }];
  for (const method of order) {
    const recipe = students.get(method)!;
    const after: StageName[] = [];
    if (needsTeacher(method)) after.push('teacher');
    const initStage = order.find((m) => recipe.init !== undefined && path.resolve(dirOf(m)) === path.resolve(recipe.init));
    if (initStage !== undefined) after.push(initStage);
    stages.push({ name: method, dir: dirOf(method), command: 'distill', recipe, after });
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
