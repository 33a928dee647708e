/**
 * Per-sample transforms declared as plain data, so a recipe file can hold the
 * pipeline. Images flow through as Float32 CHW in the dataset's own scale until
 * `toFloat` rescales them; random ops draw a fixed number of values from the
 * sample's own Rng, so a pipeline gives the same result in any thread.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { ChannelStats, PixelArray } from './dataset.js';
import type { Rng } from './rng.js';

const sizeSchema = z.union([
  z.number().int().positive(),
  z.tuple([z.number().int().positive(), z.number().int().positive()]),
]);

export const transformSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('centerCrop'), size: sizeSchema }).strict(),
  z.object({ op: z.literal('randomCrop'), size: sizeSchema, padding: z.number().int().nonnegative().default(0) }).strict(),
  z.object({ op: z.literal('hflip'), p: z.number().min(0).max(1).default(0.5) }).strict(),
  z.object({ op: z.literal('resize'), size: sizeSchema }).strict(),
  z.object({ op: z.literal('toFloat'), scale: z.number().positive().optional() }).strict(),
  // Multiplies the image by a gain drawn uniformly from [min, max]: SAR chips of
  // another depression angle or sensor calibration differ in overall brightness.
  z.object({ op: z.literal('randomGain'), min: z.number().positive(), max: z.number().positive() }).strict(),
  z
    .object({
      op: z.literal('normalize'),
      mean: z.array(z.number()).nonempty().optional(),
      std: z.array(z.number().positive()).nonempty().optional(),
    })
    .strict(),
]);

export type TransformSpec = z.input<typeof transformSchema>;
type ParsedTransform = z.output<typeof transformSchema>;

/** Validates a pipeline from a recipe; errors name the key, e.g. `data.transforms[1].size`. */
export function parseTransforms(value: unknown, key = 'transforms'): ParsedTransform[] {
  const result = z.array(transformSchema).safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    throw new ConfigError(`${key}${where}`, issue.message);
  }
  return result.data;
}

export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

export interface PipelineInput extends ImageShape {
  /** 8-bit datasets scale by 1/255 in `toFloat`; float datasets by 1. */
  dtype: 'uint8' | 'float32';
}

/**
 * `data` starts as the dataset's own array (read-only); geometric ops read it
 * in place, so a crop never converts pixels it drops. Ops that change values
 * in place first take a Float32 copy through `writable`.
 */
interface Image {
  data: PixelArray;
  c: number;
  h: number;
  w: number;
  owned: boolean;
}

function writable(img: Image): Float32Array {
  if (img.owned && img.data instanceof Float32Array) return img.data;
  img.data = Float32Array.from(img.data);
  img.owned = true;
  return img.data;
}

type Step = (img: Image, rng: Rng) => Image;

function dims(size: number | readonly [number, number]): [number, number] {
  return typeof size === 'number' ? [size, size] : [size[0], size[1]];
}

/** Copies the window starting at (top, left) into an h x w image; outside the source is zero. */
function window(img: Image, top: number, left: number, h: number, w: number): Image {
  const out = new Float32Array(img.c * h * w);
  const y0 = Math.max(0, -top);
  const y1 = Math.min(h, img.h - top);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(w, img.w - left);
  if (x1 > x0) {
    for (let c = 0; c < img.c; c++) {
      for (let y = y0; y < y1; y++) {
        const src = (c * img.h + y + top) * img.w + left;
        const dst = (c * h + y) * w;
        // A plain loop: TypedArray.set across element types takes V8's slow generic path.
        for (let x = x0; x < x1; x++) out[dst + x] = img.data[src + x]!;
      }
    }
  }
  return { data: out, c: img.c, h, w, owned: true };
}

/** Centre window (crops when smaller than the image, zero-pads when larger). */
function centerWindow(img: Image, h: number, w: number): Image {
  return window(img, Math.floor((img.h - h) / 2), Math.floor((img.w - w) / 2), h, w);
}

/** Bilinear with half-pixel centres (PyTorch's align_corners=false, no antialias). */
function bilinear(img: Image, h: number, w: number): Image {
  const out = new Float32Array(img.c * h * w);
  const sy = img.h / h;
  const sx = img.w / w;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.h - 1);
    const wy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.w - 1);
      const wx = fx - x0;
      for (let c = 0; c < img.c; c++) {
        const base = c * img.h * img.w;
        const top = img.data[base + y0 * img.w + x0]! * (1 - wx) + img.data[base + y0 * img.w + x1]! * wx;
        const bottom = img.data[base + y1 * img.w + x0]! * (1 - wx) + img.data[base + y1 * img.w + x1]! * wx;
        out[(c * h + y) * w + x] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return { data: out, c: img.c, h, w, owned: true };
}

function flipHorizontal(img: Image): Image {
  const out = new Float32Array(img.data.length);
  for (let row = 0; row < img.c * img.h; row++) {
    const base = row * img.w;
    for (let x = 0; x < img.w; x++) out[base + x] = img.data[base + img.w - 1 - x]!;
  }
  return { ...img, data: out, owned: true };
}

function perChannel(values: readonly number[], channels: number, key: string): number[] {
  if (values.length === channels) return [...values];
  if (values.length === 1) return new Array<number>(channels).fill(values[0]!);
  throw new ConfigError(key, `has ${values.length} values for ${channels} channels`);
}

/** A validated pipeline bound to an input shape; knows its output shape before any image runs. */
export class Pipeline {
  readonly output: ImageShape;
  private readonly steps: Step[] = [];

  constructor(
    specs: readonly TransformSpec[],
    private readonly input: PipelineInput,
    stats?: ChannelStats,
    key = 'transforms',
  ) {
    const parsed = parseTransforms(specs, key);
    let { channels: c, height: h, width: w } = input;
    let scaled = input.dtype === 'float32';
    parsed.forEach((spec, i) => {
      const at = `${key}[${i}]`;
      switch (spec.op) {
        case 'centerCrop': {
          const [th, tw] = dims(spec.size);
          this.steps.push((img) => centerWindow(img, th, tw));
          [h, w] = [th, tw];
          break;
        }
        case 'randomCrop': {
          const [th, tw] = dims(spec.size);
          const pad = spec.padding;
          if (th > h + 2 * pad || tw > w + 2 * pad) {
            throw new ConfigError(`${at}.size`, `${th}x${tw} is larger than the ${h}x${w} image padded by ${pad}`);
          }
          const [ih, iw] = [h, w];
          this.steps.push((img, rng) => {
            const top = rng.int(ih + 2 * pad - th + 1) - pad;
            const left = rng.int(iw + 2 * pad - tw + 1) - pad;
            return window(img, top, left, th, tw);
          });
          [h, w] = [th, tw];
          break;
        }
        case 'hflip': {
          const p = spec.p;
          this.steps.push((img, rng) => (rng.next() < p ? flipHorizontal(img) : img));
          break;
        }
        case 'resize': {
          const [th, tw] = dims(spec.size);
          this.steps.push((img) => (img.h === th && img.w === tw ? img : bilinear(img, th, tw)));
          [h, w] = [th, tw];
          break;
        }
        case 'toFloat': {
          const scale = spec.scale ?? (input.dtype === 'uint8' ? 1 / 255 : 1);
          this.steps.push((img) => {
            const data = writable(img);
            for (let j = 0; j < data.length; j++) data[j]! *= scale;
            return img;
          });
          scaled = true;
          break;
        }
        case 'randomGain': {
          const { min, max } = spec;
          if (min > max) throw new ConfigError(`${at}.min`, `${min} is larger than max ${max}`);
          this.steps.push((img, rng) => {
            const gain = min + (max - min) * rng.next();
            const data = writable(img);
            for (let j = 0; j < data.length; j++) data[j]! *= gain;
            return img;
          });
          break;
        }
        case 'normalize': {
          if ((spec.mean === undefined || spec.std === undefined) && !stats) {
            throw new ConfigError(at, 'needs mean and std, or dataset statistics');
          }
          if (spec.mean === undefined && !scaled) {
            // Dataset statistics are in toFloat units; applying them to 0..255 pixels is a silent bug.
            throw new ConfigError(at, 'uses dataset statistics, which are in toFloat units: put toFloat before it');
          }
          const mean = perChannel(spec.mean ?? stats!.mean, c, `${at}.mean`);
          const invStd = perChannel(spec.std ?? stats!.std, c, `${at}.std`).map((s) => 1 / s);
          this.steps.push((img) => {
            const data = writable(img);
            const plane = img.h * img.w;
            for (let ch = 0; ch < img.c; ch++) {
              const m = mean[ch]!;
              const k = invStd[ch]!;
              for (let j = ch * plane; j < (ch + 1) * plane; j++) data[j] = (data[j]! - m) * k;
            }
            return img;
          });
          break;
        }
      }
    });
    this.output = { channels: c, height: h, width: w };
  }

  /** Runs the pipeline on one CHW image and writes the result at `out[offset..]`. */
  apply(image: PixelArray, rng: Rng, out: Float32Array, offset: number): void {
    let img: Image = { data: image, c: this.input.channels, h: this.input.height, w: this.input.width, owned: false };
    for (const step of this.steps) img = step(img, rng);
    out.set(img.data, offset);
  }
}

/** The pipelines each data kind trains and tests with unless the recipe says otherwise. */
export function defaultTransforms(kind: string, shape: ImageShape): { train: TransformSpec[]; test: TransformSpec[] } {
  const normalize: TransformSpec[] = [{ op: 'toFloat' }, { op: 'normalize' }];
  switch (kind) {
    case 'cifar10':
    case 'cifar100':
      return {
        train: [{ op: 'randomCrop', size: [shape.height, shape.width], padding: 4 }, { op: 'hflip' }, ...normalize],
        test: normalize,
      };
    case 'mstar':
      // A-ConvNets: 88x88 crops of the 128x128 chips, random for training.
      return {
        train: [{ op: 'randomCrop', size: 88 }, ...normalize],
        test: [{ op: 'centerCrop', size: 88 }, ...normalize],
      };
    case 'fusar':
    case 'opensarship':
      // Ships have no preferred left/right; small shifts stand in for imprecise chip centring.
      return {
        train: [{ op: 'randomCrop', size: [shape.height, shape.width], padding: 4 }, { op: 'hflip' }, ...normalize],
        test: normalize,
      };
    case 'synthetic':
      // Poses already cover every rotation; a mirror would turn L and Z into shapes the test set never shows.
      return { train: [{ op: 'randomCrop', size: [shape.height, shape.width], padding: 2 }, ...normalize], test: normalize };
    default:
      return { train: [{ op: 'hflip' }, ...normalize], test: normalize };
  }
}
