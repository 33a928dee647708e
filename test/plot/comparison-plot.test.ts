import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparisonSvg, readComparison, type ComparedRun } from '../../src/plot/comparison-plot.js';
import { elements, expectInsideViewBox, expectWellFormed } from './svg-parse.js';

// The shape of a real MSTAR pipeline: a big teacher, dense students, half-pruned ones sharing one MAC count.
const rows: ComparedRun[] = [
  { method: 'teacher', top1: 0.818, effectiveMacs: 275e6, nonZeros: 2.79e6 },
  { method: 'scratch', top1: 0.962, effectiveMacs: 37.6e6, nonZeros: 303e3 },
  { method: 'kd', top1: 0.858, effectiveMacs: 37.6e6, nonZeros: 303e3 },
  { method: 'prune', top1: 0.95, effectiveMacs: 18.8e6, nonZeros: 152e3 },
  { method: 'unstructured-kd', top1: 0.864, effectiveMacs: 18.8e6, nonZeros: 152e3 },
  { method: 'dst', top1: 0.856, effectiveMacs: 18.8e6, nonZeros: 152e3 },
];

type Box = { x0: number; x1: number; y0: number; y1: number };

function labelBoxes(svg: string): Box[] {
  return [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" text-anchor="(start|end)" dy="0.32em" font-size="11">([^<]*)<\/text><\/g>/g)].map((m) => {
    const x = Number(m[1]);
    const y = Number(m[2]);
    const w = m[4]!.length * 11 * 0.56;
    return { x0: m[3] === 'start' ? x : x - w, x1: m[3] === 'start' ? x + w : x, y0: y - 6, y1: y + 6 };
  });
}

describe('comparisonSvg', () => {
  const svg = comparisonSvg(rows, 'mstar');

  it('plots every method, teacher included, in both panels with its top-1', () => {
    expectWellFormed(svg);
    expectInsideViewBox(svg);
    expect(elements(svg, 'circle')).toHaveLength(2 * rows.length);
    for (const r of rows) expect(svg).toContain(`data-label="${r.method} ${(100 * r.top1).toFixed(1)}%"`);
    expect(svg).toContain('>effective MACs per image</text>');
    expect(svg).toContain('>non-zero weights</text>');
  });

  it('puts the costly teacher right and the accurate scratch student high, on a log axis', () => {
    const circles = elements(svg, 'circle').slice(0, rows.length).map((c) => ({ x: Number(c.attrs.cx), y: Number(c.attrs.cy) }));
    expect(Math.max(...circles.map((c) => c.x))).toBe(circles[0]!.x);
    expect(Math.min(...circles.map((c) => c.y))).toBe(circles[1]!.y);
    expect(svg).toContain('>20M</text>');
    expect(svg).toContain('>200M</text>');
  });

  it('keeps labels of points sharing a MAC count apart', () => {
    const boxes = labelBoxes(svg);
    expect(boxes).toHaveLength(2 * rows.length);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i]!, boxes[j]!];
        expect(a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1, `labels ${i} and ${j} overlap`).toBe(false);
      }
    }
  });

  it('uses a linear axis when the costs are close, and draws a lone row', () => {
    const close = comparisonSvg(rows.slice(1, 3), 'dense');
    expect(close).not.toContain('>20M</text>');
    expectWellFormed(comparisonSvg(rows.slice(0, 1), 'teacher only'));
  });
});

describe('readComparison', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dst-comparison-'));
  const write = (text: string) => {
    const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, text);
    return file;
  };

  it('names the file and row of what the chart cannot use', async () => {
    expect(await readComparison(write(JSON.stringify(rows)))).toHaveLength(rows.length);
    await expect(readComparison(write('{'))).rejects.toThrow(/\.json: not valid JSON$/);
    await expect(readComparison(write('[]'))).rejects.toThrow(/expected a non-empty array/);
    await expect(readComparison(write('[{"method":"kd","top1":"high","effectiveMacs":1,"nonZeros":1}]'))).rejects.toThrow(/row 1 \(kd\): "top1" is not a number/);
    await expect(readComparison(write('[null]'))).rejects.toThrow(/row 1: expected an object/);
  });
});
