import { escapeXml } from './escape.js';
import { INK } from './palette.js';

export type Attrs = Record<string, string | number | undefined>;

// System font stacks only: an SVG shown through <img> (GitHub) may not load fonts or stylesheets.
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/** Pixel coordinates to two decimals keep files small without visible rounding. */
export function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function attributes(attrs: Attrs): string {
  return Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(typeof v === 'number' ? px(v) : v!)}"`)
    .join('');
}

/** One element; `children` are already-serialised markup. */
export function el(name: string, attrs: Attrs, ...children: string[]): string {
  return children.length ? `<${name}${attributes(attrs)}>${children.join('')}</${name}>` : `<${name}${attributes(attrs)}/>`;
}

export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return `<text${attributes({ x, y, ...attrs })}>${escapeXml(content)}</text>`;
}

/** Rough width of `content` at `size` px in a proportional sans-serif, for layout without a font engine. */
export function textWidth(content: string, size: number): number {
  return content.length * size * 0.56;
}

/** A standalone SVG file: explicit size and viewBox, white background (readable in dark-mode viewers), title for screen readers. */
export function svgDocument(width: number, height: number, title: string, body: readonly string[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg"${attributes({ width, height, viewBox: `0 0 ${px(width)} ${px(height)}`, 'font-family': FONT, 'font-size': 12, fill: INK })}>`,
    `<title>${escapeXml(title)}</title>`,
    el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
