import { frame, xAxis, yAxis, type Box } from './axes.js';
import { placeLabels } from './label-placement.js';
import { GRID, MUTED } from './palette.js';
import { makeScale } from './scale.js';
import { el, svgDocument, text } from './svg.js';
import { decimalLabels, type TickFormat } from './ticks.js';

export interface ScatterPoint {
  label: string;
  x: number;
  y: number;
  color: string;
}

export interface ScatterPanel {
  title: string;
  xLabel: string;
  xFormat?: TickFormat;
  logX?: boolean;
  points: ScatterPoint[];
}

export interface ScatterChartSpec {
  title: string;
  subtitle?: string;
  /** The y axis is shared, so one point reads at the same height in every panel. */
  yLabel: string;
  yFormat?: TickFormat;
  panels: ScatterPanel[];
}

const PANEL_WIDTH = 420;
const PLOT_HEIGHT = 320;

function drawable(panel: ScatterPanel): ScatterPoint[] {
  return panel.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!panel.logX || p.x > 0));
}

function panelMarkup(panel: ScatterPanel, spec: ScatterChartSpec, box: Box, yValues: number[]): string {
  const points = drawable(panel);
  const title = text(box.x, box.y - 10, panel.title, { 'font-size': 13, 'font-weight': 'bold' });
  if (!points.length) return el('g', { class: 'panel', 'data-title': panel.title }, title, frame(box), text(box.x + box.width / 2, box.y + box.height / 2, 'no data', { 'text-anchor': 'middle', fill: MUTED }));
  // Padding keeps edge points and their labels off the frame.
  const pad = 14;
  const xs = makeScale(
    points.map((p) => p.x),
    box.x + pad,
    box.x + box.width - pad,
    { log: panel.logX },
  );
  const ys = makeScale(yValues, box.y + box.height - pad, box.y + pad);
  const anchors = points.map((p) => ({ x: xs.map(p.x), y: ys.map(p.y), label: p.label }));
  const labels = placeLabels(anchors, box);
  const marks = points.map((p, i) => {
    const a = anchors[i]!;
    const l = labels[i]!;
    const leader = l.y !== a.y ? [el('line', { x1: a.x, y1: a.y, x2: l.anchor === 'start' ? l.x - 2 : l.x + 2, y2: l.y, stroke: GRID, 'stroke-width': 1 })] : [];
    return el(
      'g',
      { class: 'point', 'data-label': p.label },
      ...leader,
      el('circle', { cx: a.x, cy: a.y, r: 5, fill: p.color, stroke: '#ffffff', 'stroke-width': 1.5 }),
      text(l.x, l.y, p.label, { 'text-anchor': l.anchor, dy: '0.32em', 'font-size': 11 }),
    );
  });
  return el(
    'g',
    { class: 'panel', 'data-title': panel.title },
    title,
    xAxis(xs, box, { format: panel.xFormat ?? decimalLabels, label: panel.xLabel, grid: true }),
    yAxis(ys, box, { side: 'left', label: spec.yLabel, format: spec.yFormat ?? decimalLabels, grid: true }),
    frame(box),
    ...marks,
  );
}

/** Labelled points in panels side by side over one shared y axis. */
export function scatterChart(spec: ScatterChartSpec): string {
  const marginLeft = 80;
  const gap = 90;
  const top = spec.subtitle ? 84 : 64;
  const yValues = spec.panels.flatMap((p) => drawable(p).map((q) => q.y));
  const width = marginLeft + spec.panels.length * PANEL_WIDTH + (spec.panels.length - 1) * gap + 24;
  const height = top + PLOT_HEIGHT + 50;
  const header = [text(marginLeft, 26, spec.title, { 'font-size': 16, 'font-weight': 'bold' })];
  if (spec.subtitle) header.push(text(marginLeft, 46, spec.subtitle, { fill: MUTED }));
  const body = spec.panels.map((panel, i) => panelMarkup(panel, spec, { x: marginLeft + i * (PANEL_WIDTH + gap), y: top, width: PANEL_WIDTH, height: PLOT_HEIGHT }, yValues));
  return svgDocument(width, height, spec.title, [...header, ...body]);
}
