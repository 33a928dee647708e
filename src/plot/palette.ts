/**
 * Okabe & Ito's colour-blind-safe palette (yellow dropped: too faint on
 * white), so series stay apart for readers with red-green deficiency.
 */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;

export const INK = '#222222';
export const MUTED = '#666666';
export const GRID = '#e3e3e3';
export const FRAME = '#999999';

export function paletteColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}
