import type { Box } from './axes.js';
import { textWidth } from './svg.js';

export interface Anchor {
  x: number;
  y: number;
  label: string;
}

export interface PlacedLabel {
  x: number;
  y: number;
  anchor: 'start' | 'end';
}

interface Rect {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

const FONT_SIZE = 11;
const HALF_HEIGHT = 7;
const MARKER = 6;
const OFFSETS = [0, -14, 14, -28, 28, -42, 42];

function overlaps(a: Rect, b: Rect): boolean {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/**
 * Puts each point's label beside it, right or left, nudged up or down until
 * it clears the other labels, the markers and the plot's edges: methods that
 * share a MAC count otherwise print on top of each other.
 */
export function placeLabels(anchors: readonly Anchor[], box: Box): PlacedLabel[] {
  const markers: Rect[] = anchors.map((a) => ({ x0: a.x - MARKER, x1: a.x + MARKER, y0: a.y - MARKER, y1: a.y + MARKER }));
  const taken: Rect[] = [];
  const placed = new Array<PlacedLabel>(anchors.length);
  const order = anchors.map((_, i) => i).sort((i, j) => anchors[i]!.y - anchors[j]!.y);
  for (const i of order) {
    const a = anchors[i]!;
    const w = textWidth(a.label, FONT_SIZE);
    const candidates = OFFSETS.flatMap((dy) =>
      (['start', 'end'] as const).map((anchor) => {
        const x = anchor === 'start' ? a.x + MARKER + 3 : a.x - MARKER - 3;
        const rect = { x0: anchor === 'start' ? x : x - w, x1: anchor === 'start' ? x + w : x, y0: a.y + dy - HALF_HEIGHT, y1: a.y + dy + HALF_HEIGHT };
        return { label: { x, y: a.y + dy, anchor }, rect };
      }),
    );
    const inside = (r: Rect) => r.x0 >= box.x + 2 && r.x1 <= box.x + box.width - 2 && r.y0 >= box.y && r.y1 <= box.y + box.height;
    const free = candidates.find((c) => inside(c.rect) && !taken.some((t) => overlaps(t, c.rect)) && !markers.some((m) => overlaps(m, c.rect)));
    const fallback = candidates.find((c) => inside(c.rect)) ?? candidates[0]!;
    const chosen = free ?? fallback;
    taken.push(chosen.rect);
    placed[i] = chosen.label;
  }
  return placed;
}
