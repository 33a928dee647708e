import { expect } from 'vitest';

export type Element = { tag: string; attrs: Record<string, string> };

/** Every start or empty-element tag of `svg` with its attributes (entities left as written). */
export function elements(svg: string, tag?: string): Element[] {
  const found: Element[] = [];
  for (const m of svg.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"]*")*)\s*\/?>/g)) {
    if (tag && m[1] !== tag) continue;
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    found.push({ tag: m[1]!, attrs });
  }
  return found;
}

/** The numbers of a path's M/L commands as [x, y] pairs, one array per subpath. */
export function subpaths(d: string): [number, number][][] {
  const result: [number, number][][] = [];
  for (const m of d.matchAll(/([ML])\s*(-?[\d.]+)[ ,](-?[\d.]+)/g)) {
    const point: [number, number] = [Number(m[2]), Number(m[3])];
    if (m[1] === 'M') result.push([point]);
    else result[result.length - 1]!.push(point);
  }
  return result;
}

export function viewBox(svg: string): { width: number; height: number } {
  const [, , width, height] = elements(svg, 'svg')[0]!.attrs.viewBox!.split(' ').map(Number);
  return { width: width!, height: height! };
}

/** Tags balance, every `&` starts an entity, no script or external reference: what a browser and GitHub need to show the file. */
export function expectWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    if (m[3]) continue;
    if (m[1]) expect(stack.pop(), `closing </${m[2]}>`).toBe(m[2]);
    else stack.push(m[2]!);
  }
  expect(stack).toEqual([]);
  expect(svg).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
  expect(svg).not.toMatch(/<script|<style|href=|@import|url\(/i);
  expect(svg).not.toMatch(/NaN|Infinity|undefined/);
}

/** Every circle and path point lies inside the viewBox. */
export function expectInsideViewBox(svg: string): void {
  const { width, height } = viewBox(svg);
  const points = [
    ...elements(svg, 'circle').map((c) => [Number(c.attrs.cx), Number(c.attrs.cy)] as const),
    ...elements(svg, 'path').flatMap((p) => subpaths(p.attrs.d!).flat()),
  ];
  for (const [x, y] of points) {
    expect(x).toBeGreaterThanOrEqual(0);
    expect(x).toBeLessThanOrEqual(width);
    expect(y).toBeGreaterThanOrEqual(0);
    expect(y).toBeLessThanOrEqual(height);
  }
}

/** The `<g class="series">` groups: name and body. */
export function seriesGroups(svg: string): { name: string; body: string }[] {
  return [...svg.matchAll(/<g class="series" data-name="([^"]*)">(.*?)<\/g>/g)].map((m) => ({ name: m[1]!, body: m[2]! }));
}
