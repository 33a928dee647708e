/**
 * A generated 10-class set of SAR-like target chips, the default data of the
 * demo and the tests (real data cannot ship with the package). Each class is a
 * layout of point scatterers; every chip draws a random pose (any rotation,
 * ±15% scale, a few pixels of shift), drops and dims some scatterers, adds weak
 * clutter points and 4-look speckle, and is scaled like a raw MSTAR chip (peak
 * amplitude -> 255). Rotation makes the L, T, Z and the triangle differ only in
 * their internal geometry, so the task needs a CNN yet stays learnable.
 */
import { ArrayDataset, sharedInt32, sharedUint8 } from './dataset.js';
import { mixSeed, Rng } from './rng.js';

type Point = readonly [number, number];

function segment(a: Point, b: Point, n: number): Point[] {
  return Array.from({ length: n }, (_, i) => {
    const t = n === 1 ? 0.5 : i / (n - 1);
    return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t] as const;
  });
}

function polygon(corners: Point[], perEdge: number): Point[] {
  return corners.flatMap((c, i) => segment(c, corners[(i + 1) % corners.length]!, perEdge + 1).slice(0, perEdge));
}

/** Scatterer layouts in a unit frame (target radius about 0.7). */
export const SYNTHETIC_CLASSES: readonly { name: string; points: readonly Point[] }[] = [
  { name: 'bar', points: segment([-0.7, 0], [0.7, 0], 8) },
  { name: 'cross', points: [...segment([-0.6, 0], [0.6, 0], 5), ...segment([0, -0.6], [0, 0.6], 5).filter((_, i) => i !== 2)] },
  { name: 'ell', points: [...segment([-0.45, -0.6], [-0.45, 0.5], 6), ...segment([-0.25, 0.5], [0.55, 0.5], 4)] },
  { name: 'tee', points: [...segment([-0.6, -0.5], [0.6, -0.5], 6), ...segment([0, -0.28], [0, 0.65], 5)] },
  { name: 'ring', points: Array.from({ length: 9 }, (_, i) => [0.45 * Math.cos((i * 2 * Math.PI) / 9), 0.45 * Math.sin((i * 2 * Math.PI) / 9)] as const) },
  { name: 'triangle', points: polygon([[0, -0.65], [0.6, 0.45], [-0.6, 0.45]], 3) },
  // Corners listed twice: bright corner reflections, as on real box-shaped targets.
  { name: 'square', points: [...polygon([[-0.55, -0.55], [0.55, -0.55], [0.55, 0.55], [-0.55, 0.55]], 3), [-0.55, -0.55], [0.55, -0.55], [0.55, 0.55], [-0.55, 0.55]] },
  { name: 'twin-bars', points: [...segment([-0.6, -0.3], [0.6, -0.3], 5), ...segment([-0.6, 0.3], [0.6, 0.3], 5)] },
  { name: 'zigzag', points: [...segment([-0.55, -0.5], [0.55, -0.5], 4), ...segment([0.3, -0.27], [-0.3, 0.27], 3), ...segment([-0.55, 0.5], [0.55, 0.5], 4)] },
  { name: 'dipole', points: [[-0.62, 0], [-0.5, 0.05], [0.62, 0], [0.5, -0.05]] },
];

export interface SyntheticOptions {
  /** Chip side in pixels (square, one channel). Default 32. */
  size: number;
  trainPerClass: number;
  testPerClass: number;
  seed: number;
}

const SYNTHETIC_STREAM = 0x53594e54;
const LOOKS = 4;

/** Renders one chip of class `label` into `out` (size x size, 8-bit). */
export function renderSyntheticChip(label: number, size: number, rng: Rng, out: Uint8Array): void {
  const intensity = new Float64Array(size * size);
  const half = size / 2;
  const unit = size * 0.4 * rng.uniform(0.85, 1.15);
  const angle = rng.uniform(0, 2 * Math.PI);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = half + rng.uniform(-0.1, 0.1) * size;
  const cy = half + rng.uniform(-0.1, 0.1) * size;
  const sigma = 0.9 * (size / 32);
  const reach = Math.ceil(3 * sigma);
  const blob = (x: number, y: number, power: number) => {
    for (let py = Math.max(0, Math.floor(y - reach)); py <= Math.min(size - 1, Math.ceil(y + reach)); py++) {
      for (let px = Math.max(0, Math.floor(x - reach)); px <= Math.min(size - 1, Math.ceil(x + reach)); px++) {
        const d2 = (px + 0.5 - x) ** 2 + (py + 0.5 - y) ** 2;
        intensity[py * size + px]! += power * Math.exp(-d2 / (2 * sigma * sigma));
      }
    }
  };
  for (const [ux, uy] of SYNTHETIC_CLASSES[label]!.points) {
    const kept = rng.next() >= 0.12;
    const amplitude = rng.uniform(0.55, 1);
    const jx = rng.normal() * 0.03;
    const jy = rng.normal() * 0.03;
    if (!kept) continue;
    const x = ux + jx;
    const y = uy + jy;
    blob(cx + unit * (x * cos - y * sin), cy + unit * (x * sin + y * cos), amplitude * amplitude);
  }
  const clutter = rng.int(4);
  for (let k = 0; k < clutter; k++) blob(rng.uniform(0, size), rng.uniform(0, size), rng.uniform(0.03, 0.12));
  let peak = 0;
  for (let i = 0; i < intensity.length; i++) {
    let gamma = 0;
    for (let l = 0; l < LOOKS; l++) gamma -= Math.log(1 - rng.next());
    const amplitude = Math.sqrt((intensity[i]! + 0.004) * (gamma / LOOKS));
    intensity[i] = amplitude;
    if (amplitude > peak) peak = amplitude;
  }
  for (let i = 0; i < intensity.length; i++) out[i] = Math.round((255 * intensity[i]!) / peak);
}

function generate(split: 'train' | 'test', perClass: number, options: SyntheticOptions): ArrayDataset {
  const { size } = options;
  const count = perClass * SYNTHETIC_CLASSES.length;
  const images = sharedUint8(count * size * size);
  const labels = sharedInt32(count);
  const splitSalt = split === 'train' ? 1 : 2;
  for (let i = 0; i < count; i++) {
    const label = i % SYNTHETIC_CLASSES.length;
    labels[i] = label;
    renderSyntheticChip(label, size, new Rng(mixSeed(options.seed, SYNTHETIC_STREAM, splitSalt, i)), images.subarray(i * size * size, (i + 1) * size * size));
  }
  return new ArrayDataset(`synthetic/${split}`, SYNTHETIC_CLASSES.map((c) => c.name), 1, size, size, images, labels);
}

export function makeSynthetic(options: SyntheticOptions): { train: ArrayDataset; test: ArrayDataset } {
  return { train: generate('train', options.trainPerClass, options), test: generate('test', options.testPerClass, options) };
}
