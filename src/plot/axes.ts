import { FRAME, GRID, MUTED } from './palette.js';
import type { Scale } from './scale.js';
import { el, px, text, textWidth } from './svg.js';
import type { TickFormat } from './ticks.js';

/** The plotting area of one panel, in pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function frame(box: Box): string {
  return el('rect', { x: box.x, y: box.y, width: box.width, height: box.height, fill: 'none', stroke: FRAME, 'stroke-width': 1 });
}

export interface YAxisOptions {
  side: 'left' | 'right';
  label: string;
  format: TickFormat;
  /** The series colour, so a second axis is told apart from the first. */
  color?: string;
  /** Grid lines across the box; only one axis of a panel draws them. */
  grid?: boolean;
}

export function yAxis(scale: Scale, box: Box, options: YAxisOptions): string {
  const left = options.side === 'left';
  const edge = left ? box.x : box.x + box.width;
  const labels = options.format(scale.ticks.values);
  const color = options.color ?? MUTED;
  const parts = scale.ticks.values.flatMap((v, i) => {
    const y = scale.map(v);
    const grid = options.grid ? [el('line', { x1: box.x, x2: box.x + box.width, y1: y, y2: y, stroke: GRID, 'stroke-width': 1 })] : [];
    return [...grid, text(left ? edge - 6 : edge + 6, y, labels[i]!, { 'text-anchor': left ? 'end' : 'start', dy: '0.32em', fill: color, 'font-size': 11 })];
  });
  const widest = Math.max(...labels.map((l) => textWidth(l, 11)));
  const lx = left ? edge - widest - 16 : edge + widest + 16;
  const ly = box.y + box.height / 2;
  parts.push(text(lx, ly, options.label, { 'text-anchor': 'middle', transform: `rotate(${left ? -90 : 90} ${px(lx)} ${px(ly)})`, fill: color }));
  return el('g', { class: `axis y-${options.side}` }, ...parts);
}

export interface XAxisOptions {
  format: TickFormat;
  label?: string;
  grid?: boolean;
}

export function xAxis(scale: Scale, box: Box, options: XAxisOptions): string {
  const labels = options.format(scale.ticks.values);
  const bottom = box.y + box.height;
  const parts = scale.ticks.values.flatMap((v, i) => {
    const x = scale.map(v);
    const grid = options.grid ? [el('line', { x1: x, x2: x, y1: box.y, y2: bottom, stroke: GRID, 'stroke-width': 1 })] : [];
    return [...grid, el('line', { x1: x, x2: x, y1: bottom, y2: bottom + 4, stroke: FRAME }), text(x, bottom + 16, labels[i]!, { 'text-anchor': 'middle', fill: MUTED, 'font-size': 11 })];
  });
  if (options.label) parts.push(text(box.x + box.width / 2, bottom + 34, options.label, { 'text-anchor': 'middle', fill: MUTED }));
  return el('g', { class: 'axis x' }, ...parts);
}
