import { describe, expect, it } from 'vitest';
import { lineChart, type LineChartSpec } from '../../src/plot/line-chart.js';
import { elements, expectInsideViewBox, expectWellFormed, seriesGroups, subpaths } from './svg-parse.js';

const epochs = Array.from({ length: 12 }, (_, i) => i + 1);

function chart(overrides: Partial<LineChartSpec> = {}): string {
  return lineChart({
    title: 'run',
    x: epochs,
    xLabel: 'epoch',
    integerX: true,
    panels: [
      {
        title: 'Loss',
        yLabel: 'loss',
        series: [
          { name: 'train', values: epochs.map((e) => 2 / e), color: '#111' },
          { name: 'test', values: epochs.map((e) => 2.2 / e + 0.1), color: '#222' },
        ],
      },
      {
        title: 'Schedule',
        yLabel: 'learning rate',
        y2Label: 'sparsity %',
        series: [
          { name: 'lr', values: epochs.map((e) => 0.1 * (1 - e / 12)), color: '#333' },
          { name: 'sparsity', values: epochs.map((e) => Math.min(50, e * 10)), color: '#444', axis: 'right' },
        ],
      },
    ],
    ...overrides,
  });
}

describe('lineChart', () => {
  it('draws one line per series with a legend entry, inside the viewBox', () => {
    const svg = chart();
    expectWellFormed(svg);
    expectInsideViewBox(svg);
    expect(seriesGroups(svg).map((s) => s.name)).toEqual(['train', 'test', 'lr', 'sparsity']);
    expect(elements(svg, 'path')).toHaveLength(4);
    expect(elements(svg, 'circle')).toHaveLength(4 * epochs.length);
    expect(svg).toMatch(/class="axis y-right"/);
    for (const name of ['Loss', 'Schedule', 'learning rate', 'sparsity %', 'epoch']) expect(svg).toContain(`>${name}</text>`);
  });

  it('draws a monotone series as a monotone line', () => {
    const [train] = elements(chart(), 'path');
    const [points] = subpaths(train!.attrs.d!);
    expect(points).toHaveLength(epochs.length);
    for (let i = 1; i < points!.length; i++) {
      expect(points![i]![0]).toBeGreaterThan(points![i - 1]![0]);
      // Falling loss: SVG's y grows downwards.
      expect(points![i]![1]).toBeGreaterThan(points![i - 1]![1]);
    }
  });

  it('breaks the line at NaN and marks an isolated point', () => {
    const values = epochs.map((e) => (e === 5 || e === 7 ? NaN : e));
    const many = Array.from({ length: 60 }, (_, i) => i + 1);
    const svg = lineChart({
      title: 'gaps',
      x: many,
      xLabel: 'epoch',
      panels: [
        { title: 'short', yLabel: 'y', series: [{ name: 'gappy', values, color: '#000' }] },
        { title: 'long', yLabel: 'y', series: [{ name: 'isolated', values: many.map((e) => (e === 30 ? 1 : e === 29 || e === 31 ? NaN : e)), color: '#000' }] },
      ],
    });
    expectWellFormed(svg);
    const [gappy, isolated] = seriesGroups(svg);
    expect(subpaths(elements(gappy!.body, 'path')[0]!.attrs.d!).map((p) => p.length)).toEqual([4, 1, 5]);
    // Sixty points draw no markers, except the one with no neighbour to join.
    expect(elements(isolated!.body, 'circle')).toHaveLength(1);
  });

  it('leaves out series without data and panels left empty', () => {
    const svg = chart({
      panels: [
        { title: 'Loss', yLabel: 'loss', series: [{ name: 'train', values: epochs, color: '#000' }, { name: 'missing', values: epochs.map(() => NaN), color: '#111' }] },
        { title: 'Sparsity', yLabel: '%', series: [{ name: 'sparsity', values: [], color: '#222' }] },
      ],
    });
    expect(seriesGroups(svg).map((s) => s.name)).toEqual(['train']);
    expect(svg).not.toContain('missing');
    expect(svg).not.toContain('data-title="Sparsity"');
    expect(svg).not.toMatch(/y-right/);
  });

  it('draws a single epoch as a point in the middle of the axis', () => {
    const svg = chart({ x: [1], panels: [{ title: 'Loss', yLabel: 'loss', series: [{ name: 'train', values: [0.7], color: '#000' }] }] });
    expectWellFormed(svg);
    expectInsideViewBox(svg);
    expect(elements(svg, 'path')).toHaveLength(0);
    const [dot] = elements(svg, 'circle');
    const frame = elements(svg, 'rect').find((r) => r.attrs.fill === 'none')!;
    const mid = Number(frame.attrs.x) + Number(frame.attrs.width) / 2;
    expect(Number(dot!.attrs.cx)).toBeCloseTo(mid, 1);
  });

  it('says so when there is nothing to draw', () => {
    const svg = chart({ x: [], panels: [{ title: 'Loss', yLabel: 'loss', series: [{ name: 'train', values: [], color: '#000' }] }] });
    expectWellFormed(svg);
    expect(svg).toContain('no data yet');
  });
});
