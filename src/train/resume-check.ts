import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { checkpointEpoch } from './checkpoint-epoch.js';
import type { RunDir } from './run-dir.js';

/** Recipe keys that change how fast a run computes or what it is called, never its numbers. */
const FREE_KEYS = new Set(['threads', 'workers', 'name']);

export interface RecipeChange {
  key: string;
  from: unknown;
  to: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Leaf-by-leaf differences as dotted keys; arrays compare whole. */
export function recipeChanges(before: unknown, after: unknown, prefix = ''): RecipeChange[] {
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => recipeChanges(before[k], after[k], `${prefix}${k}.`));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ key: prefix.slice(0, -1), from: before, to: after }];
}

const shown = (v: unknown): string => (v === undefined ? '(unset)' : JSON.stringify(v));

/**
 * A resumed run must continue the run its checkpoint belongs to: any change
 * to a key that defines it is refused, naming the keys; with `allowChanges`
 * the changes are appended to the run's changes.jsonl instead, with the epoch
 * they take effect at.
 */
export async function checkResumeRecipe(runDir: RunDir, recipe: unknown, allowChanges: boolean): Promise<void> {
  const before = await runDir.readRecipe();
  // Compared as they would be stored: undefined keys vanish.
  const after = JSON.parse(JSON.stringify(recipe)) as unknown;
  const changes = recipeChanges(before, after).filter((c) => !FREE_KEYS.has(c.key));
  if (changes.length === 0) return;
  if (!allowChanges) {
    const list = changes.map((c) => `${c.key} ${shown(c.from)} -> ${shown(c.to)}`).join(', ');
    throw new ConfigError(runDir.recipe, `the run was started with other settings (${list}); resume with the same ones, or pass --allow-changes to continue with these and record them in changes.jsonl`);
  }
  const file = path.join(runDir.root, 'changes.jsonl');
  const earlier = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const record = { at: new Date().toISOString(), fromEpoch: checkpointEpoch(runDir.lastCheckpoint) ?? null, changes };
  await writeFileAtomic(file, `${earlier}${JSON.stringify(record)}\n`);
}
