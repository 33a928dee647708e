import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { FormatError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';

/** The files of one run directory (DESIGN §6). */
export class RunDir {
  constructor(readonly root: string) {}

  get recipe(): string {
    return path.join(this.root, 'recipe.yaml');
  }
  get metrics(): string {
    return path.join(this.root, 'metrics.jsonl');
  }
  get model(): string {
    return path.join(this.root, 'model.safetensors');
  }
  get summary(): string {
    return path.join(this.root, 'summary.json');
  }
  get lastCheckpoint(): string {
    return path.join(this.root, 'checkpoints', 'last.safetensors');
  }

  isFinished(): boolean {
    return existsSync(this.summary) && existsSync(this.model);
  }

  hasCheckpoint(): boolean {
    return existsSync(this.lastCheckpoint);
  }

  async writeRecipe(recipe: unknown): Promise<void> {
    await writeFileAtomic(this.recipe, YAML.stringify(recipe, { aliasDuplicateObjects: false }));
  }

  /** Rewrites the whole file so a reader never sees a half line. */
  async writeMetrics(records: readonly unknown[]): Promise<void> {
    await writeFileAtomic(this.metrics, records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
  }

  async writeSummary(summary: unknown): Promise<void> {
    await writeFileAtomic(this.summary, `${JSON.stringify(summary, null, 2)}\n`);
  }

  async readSummary<T>(): Promise<T> {
    return readJson<T>(this.summary);
  }

  async readRecipe(): Promise<Record<string, unknown>> {
    let text: string;
    try {
      text = await readFile(this.recipe, 'utf8');
    } catch {
      throw new FormatError(this.root, 'not a dst run directory (recipe.yaml missing)');
    }
    return YAML.parse(text) as Record<string, unknown>;
  }
}

async function readJson<T>(file: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new FormatError(file, 'missing: has the run finished?');
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new FormatError(file, 'not valid JSON');
  }
}
