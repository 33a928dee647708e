import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { plotDirectory } from '../../src/plot/plot-dir.js';
import { dst } from '../cli/run-cli.js';
import { elements, expectWellFormed, seriesGroups } from './svg-parse.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-plot-'));

function epochLine(epoch: number, sparsity?: number): string {
  return JSON.stringify({ epoch, lr: 0.05 / epoch, trainLoss: 1 / epoch, trainTop1: 0.6 + epoch / 20, testLoss: 1.2 / epoch, testTop1: 0.55 + epoch / 20, testTop5: 0.95, seconds: 2, imagesPerSecond: 500, ...(sparsity === undefined ? {} : { sparsity }) });
}

function runDir(name: string, lines: readonly string[]): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'metrics.jsonl'), lines.map((l) => `${l}\n`).join(''));
  return dir;
}

// Each dst process spends about a second loading LibTorch, so only the two paths a user sees go through it; the rest calls plotDirectory.
describe('dst plot', () => {
  it('draws a pruning run\'s curves next to its metrics and prints the path', () => {
    const dir = runDir('pruned', [epochLine(1, 0.25), epochLine(2, 0.5), epochLine(3, 0.5)]);
    const r = dst(['plot', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(path.join(dir, 'curves.svg'));
    const svg = readFileSync(path.join(dir, 'curves.svg'), 'utf8');
    expectWellFormed(svg);
    expect(seriesGroups(svg).map((s) => s.name)).toEqual(['train', 'test', 'train', 'test', 'learning rate', 'sparsity']);
    expect(elements(svg, 'title')).toHaveLength(1);
    expect(svg).toContain('<title>pruned</title>');
  });

  it('fails with one line naming the file and line of a malformed metrics line, writing nothing', () => {
    const dir = runDir('malformed', [epochLine(1), '{"epoch": 2, "trainLoss": 0.', epochLine(3)]);
    const r = dst(['plot', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^dst: error: .*malformed[/\\]metrics\.jsonl:2: not valid JSON$/m);
    expect(readdirSync(dir)).toEqual(['metrics.jsonl']);
  });

  it('draws a pipeline\'s comparison, to another file if asked', async () => {
    const dir = path.join(work, 'pipeline');
    mkdirSync(dir);
    const rows = [
      { method: 'teacher', top1: 0.9, effectiveMacs: 69e6, nonZeros: 470e3 },
      { method: 'dst', top1: 0.88, effectiveMacs: 21e6, nonZeros: 140e3 },
    ];
    writeFileSync(path.join(dir, 'comparison.json'), JSON.stringify(rows));
    expect(await plotDirectory(dir)).toBe(path.join(dir, 'comparison.svg'));
    const out = path.join(work, 'charts', 'cmp.svg');
    expect(await plotDirectory(dir, out)).toBe(out);
    expect(readFileSync(out, 'utf8')).toContain('data-label="dst 88.0%"');
  });

  it('names the path of every other bad input', async () => {
    const empty = path.join(work, 'empty');
    mkdirSync(empty);
    const file = path.join(work, 'file.txt');
    writeFileSync(file, 'x');
    const cases: [string, RegExp][] = [
      [path.join(work, 'missing'), /missing: no such directory$/],
      [file, /file\.txt: not a directory/],
      [empty, /empty: neither a run directory \(no metrics\.jsonl\) nor a pipeline directory/],
      [runDir('no-epochs', []), /no-epochs[/\\]metrics\.jsonl: holds no epochs yet$/],
      [runDir('not-records', [epochLine(1), '"text"']), /not-records[/\\]metrics\.jsonl:2: expected an object with a numeric "epoch"$/],
    ];
    for (const [dir, message] of cases) await expect(plotDirectory(dir), dir).rejects.toThrow(message);
    expect(readdirSync(empty)).toEqual([]);
    expect(readdirSync(path.join(work, 'not-records'))).toEqual(['metrics.jsonl']);
  });
});
