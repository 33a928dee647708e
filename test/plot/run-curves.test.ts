import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { curvesSvg, LiveCurves, readMetrics, type EpochMetrics } from '../../src/plot/run-curves.js';
import { RunDir } from '../../src/train/run-dir.js';
import { elements, expectInsideViewBox, expectWellFormed, seriesGroups } from './svg-parse.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-curves-'));

function records(n: number, sparsity?: (e: number) => number): EpochMetrics[] {
  return Array.from({ length: n }, (_, i) => ({
    epoch: i + 1,
    lr: 0.1 * (1 - i / n),
    trainLoss: 2 / (i + 1),
    trainTop1: 0.5 + i / (4 * n),
    testLoss: 2.1 / (i + 1),
    testTop1: 0.45 + i / (4 * n),
    testTop5: 0.9,
    seconds: 3,
    imagesPerSecond: 900,
    ...(sparsity ? { sparsity: sparsity(i + 1) } : {}),
  }));
}

describe('curvesSvg', () => {
  it('draws loss, top-1 and learning rate of a training run', () => {
    const svg = curvesSvg(records(5), 'teacher');
    expectWellFormed(svg);
    expectInsideViewBox(svg);
    expect(elements(svg, 'g').filter((g) => g.attrs.class === 'panel').map((g) => g.attrs['data-title'])).toEqual(['Loss', 'Top-1 accuracy', 'Schedule']);
    expect(seriesGroups(svg).map((s) => s.name)).toEqual(['train', 'test', 'train', 'test', 'learning rate']);
    expect(svg).not.toMatch(/y-right/);
    expect(svg).toContain('5 epochs · final test top-1 65.00%');
  });

  it('adds the sparsity of a pruning run on a second axis', () => {
    const svg = curvesSvg(
      records(4, (e) => Math.min(0.5, e / 4)),
      'dst',
    );
    expect(seriesGroups(svg).map((s) => s.name)).toContain('sparsity');
    expect(svg).toMatch(/class="axis y-right"/);
    expect(svg).toContain('>sparsity %</text>');
  });

  it('handles one epoch, NaN losses (null in JSON) and a best epoch before the last', () => {
    const [one] = records(1);
    expectWellFormed(curvesSvg([one!], 'short'));
    const diverged = records(3).map((r, i) => (i === 2 ? { ...r, trainLoss: null, testTop1: 0.1 } : r));
    const svg = curvesSvg(diverged, 'diverged');
    expectWellFormed(svg);
    expect(svg).toContain('final test top-1 10.00% · best 53.33% (epoch 2)');
  });
});

describe('readMetrics', () => {
  const write = (name: string, text: string) => {
    const file = path.join(work, name);
    writeFileSync(file, text);
    return file;
  };

  it('reads epoch lines and skips blank ones', async () => {
    const file = write('ok.jsonl', '{"epoch":1,"trainLoss":1}\n\n{"epoch":2,"trainLoss":null}\n');
    expect(await readMetrics(file)).toEqual([
      { epoch: 1, trainLoss: 1 },
      { epoch: 2, trainLoss: null },
    ]);
  });

  it('names the file and line of a bad line', async () => {
    await expect(readMetrics(write('bad.jsonl', '{"epoch":1}\n{"epoch":2}\n{"epoch":3,\n'))).rejects.toThrow(/bad\.jsonl:3: not valid JSON$/);
    await expect(readMetrics(write('array.jsonl', '[1,2]\n'))).rejects.toThrow(/array\.jsonl:1: expected an object with a numeric "epoch"/);
    await expect(readMetrics(write('empty.jsonl', '\n'))).rejects.toThrow(/empty\.jsonl: holds no epochs yet/);
    await expect(readMetrics(path.join(work, 'none.jsonl'))).rejects.toThrow(/none\.jsonl: missing/);
  });
});

describe('LiveCurves', () => {
  it('redraws after each epoch from the history it is given, and finishes with the final history', async () => {
    const runDir = new RunDir(path.join(work, 'live'));
    const curves = new LiveCurves(runDir, 'live');
    mkdirSync(runDir.root, { recursive: true });
    curves.epochDone(records(1));
    curves.epochDone(records(2));
    await vi.waitFor(() => expect(readFileSync(path.join(runDir.root, 'curves.svg'), 'utf8')).toContain('2 epochs'));
    await curves.finish(records(3));
    expect(readFileSync(path.join(runDir.root, 'curves.svg'), 'utf8')).toContain('3 epochs');
    expect(readdirSync(runDir.root)).toEqual(['curves.svg']);
  });
});
