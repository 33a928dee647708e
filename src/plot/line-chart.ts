import { frame, xAxis, yAxis, type Box } from './axes.js';
import { legend } from './legend.js';
import { MUTED } from './palette.js';
import { makeScale, type Scale } from './scale.js';
import { el, px, svgDocument, text } from './svg.js';
import { decimalLabels, type TickFormat } from './ticks.js';

export interface LineSeries {
  name: string;
  /** One value per x; a non-finite value leaves a gap in the line. */
  values: readonly number[];
  color: string;
  /** Which y axis of the panel the series is read against. */
  axis?: 'left' | 'right';
  dashed?: boolean;
}

export interface LinePanel {
  title: string;
  yLabel: string;
  yFormat?: TickFormat;
  /** The right-hand axis, for series whose unit differs from the left one's. */
  y2Label?: string;
  y2Format?: TickFormat;
  series: LineSeries[];
}

export interface LineChartSpec {
  title: string;
  subtitle?: string;
  /** Shared by every panel and series. */
  x: readonly number[];
  xLabel: string;
  integerX?: boolean;
  panels: LinePanel[];
}

// Beyond this many points markers crowd the line; below it they show where the measurements are.
const MARKER_LIMIT = 40;
const WIDTH = 760;
const PANEL_HEIGHT = 170;
const PANEL_HEADER = 24;
const PANEL_FOOTER = 30;

function hasData(series: LineSeries, x: readonly number[]): boolean {
  return series.values.some((v, i) => Number.isFinite(v) && Number.isFinite(x[i]));
}

function seriesMarkup(series: LineSeries, x: readonly number[], xs: Scale, ys: Scale): string {
  const points = x.map((xv, i) => {
    const yv = series.values[i];
    return Number.isFinite(xv) && yv !== undefined && Number.isFinite(yv) ? ([xs.map(xv), ys.map(yv)] as const) : null;
  });
  const count = points.filter((p) => p !== null).length;
  let d = '';
  const markers: string[] = [];
  points.forEach((p, i) => {
    if (!p) return;
    const joined = i > 0 && points[i - 1] !== null;
    d += `${joined ? 'L' : 'M'}${px(p[0])} ${px(p[1])}`;
    // An isolated point has no segment to show it, so it always gets a marker.
    const isolated = !joined && !points[i + 1];
    if (count <= MARKER_LIMIT || isolated) markers.push(el('circle', { cx: p[0], cy: p[1], r: 2.5, fill: series.color }));
  });
  const line = d.includes('L')
    ? [el('path', { d, fill: 'none', stroke: series.color, 'stroke-width': 2, 'stroke-linejoin': 'round', 'stroke-dasharray': series.dashed ? '6 4' : undefined })]
    : [];
  return el('g', { class: 'series', 'data-name': series.name }, ...line, ...markers);
}

function panelMarkup(panel: LinePanel, spec: LineChartSpec, box: Box, last: boolean): string {
  const left = panel.series.filter((s) => s.axis !== 'right');
  const right = panel.series.filter((s) => s.axis === 'right');
  const xs = makeScale(spec.x, box.x, box.x + box.width, { integer: spec.integerX });
  const parts = [
    text(box.x, box.y - 9, panel.title, { 'font-size': 13, 'font-weight': 'bold' }),
    legend(
      panel.series.map((s) => ({ name: s.name, color: s.color, dashed: s.dashed })),
      box.x + box.width,
      box.y - 12,
    ),
    xAxis(xs, box, { format: decimalLabels, label: last ? spec.xLabel : undefined, grid: true }),
  ];
  const series: string[] = [];
  if (left.length) {
    const ys = makeScale(left.flatMap((s) => s.values), box.y + box.height, box.y);
    parts.push(yAxis(ys, box, { side: 'left', label: panel.yLabel, format: panel.yFormat ?? decimalLabels, grid: true }));
    series.push(...left.map((s) => seriesMarkup(s, spec.x, xs, ys)));
  }
  if (right.length) {
    const ys = makeScale(right.flatMap((s) => s.values), box.y + box.height, box.y);
    parts.push(yAxis(ys, box, { side: 'right', label: panel.y2Label ?? '', format: panel.y2Format ?? decimalLabels, color: right.length === 1 ? right[0]!.color : undefined, grid: !left.length }));
    series.push(...right.map((s) => seriesMarkup(s, spec.x, xs, ys)));
  }
  return el('g', { class: 'panel', 'data-title': panel.title }, ...parts, frame(box), ...series);
}

/**
 * Panels stacked over one shared x axis (epochs), each with its own y axis,
 * an optional second y axis on the right, and a legend. Series without a
 * single finite value are left out, and panels left without series too.
 */
export function lineChart(spec: LineChartSpec): string {
  const panels = spec.panels.map((p) => ({ ...p, series: p.series.filter((s) => hasData(s, spec.x)) })).filter((p) => p.series.length > 0);
  const hasRight = panels.some((p) => p.series.some((s) => s.axis === 'right'));
  const marginLeft = 80;
  const marginRight = hasRight ? 80 : 24;
  const top = spec.subtitle ? 66 : 46;
  const header = [text(marginLeft, 26, spec.title, { 'font-size': 16, 'font-weight': 'bold' })];
  if (spec.subtitle) header.push(text(marginLeft, 46, spec.subtitle, { fill: MUTED }));
  if (!panels.length) {
    return svgDocument(WIDTH, top + 60, spec.title, [...header, text(WIDTH / 2, top + 30, 'no data yet', { 'text-anchor': 'middle', fill: MUTED })]);
  }
  const block = PANEL_HEADER + PANEL_HEIGHT + PANEL_FOOTER;
  const body = panels.map((panel, i) =>
    panelMarkup(panel, spec, { x: marginLeft, y: top + i * block + PANEL_HEADER, width: WIDTH - marginLeft - marginRight, height: PANEL_HEIGHT }, i === panels.length - 1),
  );
  return svgDocument(WIDTH, top + panels.length * block + 22, spec.title, [...header, ...body]);
}
