import { el, text, textWidth } from './svg.js';

export interface LegendEntry {
  name: string;
  color: string;
  dashed?: boolean;
}

const SWATCH = 18;
const GAP = 14;

/** One row of line swatches and names, right-aligned at `right`, centred on `y`. */
export function legend(entries: readonly LegendEntry[], right: number, y: number): string {
  const widths = entries.map((e) => SWATCH + 5 + textWidth(e.name, 11));
  let x = right - widths.reduce((a, b) => a + b, 0) - GAP * Math.max(entries.length - 1, 0);
  const parts = entries.map((e, i) => {
    const swatch = el('line', { x1: x, x2: x + SWATCH, y1: y, y2: y, stroke: e.color, 'stroke-width': 2.5, 'stroke-dasharray': e.dashed ? '5 3' : undefined });
    const label = text(x + SWATCH + 5, y, e.name, { dy: '0.32em', 'font-size': 11 });
    x += widths[i]! + GAP;
    return swatch + label;
  });
  return el('g', { class: 'legend' }, ...parts);
}
