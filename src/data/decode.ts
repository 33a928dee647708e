/** Image decoding through sharp (libvips) into 8-bit CHW, and fitting to a fixed size. */
import { promises as fs } from 'node:fs';
import sharp, { type OutputInfo } from 'sharp';
import { FormatError } from '../errors.js';

// Every image is decoded once (then cached by src/data), so libvips' operation cache only costs time.
sharp.cache(false);

export type ColorMode = 'gray' | 'rgb';

/** 'center' crops or zero-pads around the centre, keeping pixel scale; 'resize' scales the whole image. */
export type FitMode = 'center' | 'resize';

export interface DecodedImage {
  data: Uint8Array;
  channels: number;
  height: number;
  width: number;
}

export interface ImageProbe {
  channels: 1 | 3;
  height: number;
  width: number;
}

function decodeError(file: string, err: unknown): FormatError {
  // libvips lists several lines; the generic failOn notice says nothing about the file.
  const lines = (err as Error).message.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const detail = lines.find((l) => !l.startsWith('Warning treated as error')) ?? 'corrupt or truncated data';
  return new FormatError(file, `cannot decode image (${detail})`);
}

export async function probeImage(input: string | Uint8Array, file: string): Promise<ImageProbe> {
  try {
    const meta = await sharp(input).metadata();
    const colour = (meta.channels ?? 1) - (meta.hasAlpha ? 1 : 0);
    return { channels: colour >= 3 ? 3 : 1, height: meta.height ?? 0, width: meta.width ?? 0 };
  } catch (err) {
    throw decodeError(file, err);
  }
}

/** Decodes to planar CHW; `resizeTo` lets libvips scale (better filtering than a per-batch resize). */
export async function decodeImage(
  input: string | Uint8Array,
  file: string,
  color: ColorMode,
  resizeTo?: readonly [number, number],
): Promise<DecodedImage> {
  let raw: { data: Buffer; info: OutputInfo };
  // Handing libvips the bytes is faster than letting it open small files itself.
  let bytes: Uint8Array;
  try {
    bytes = typeof input === 'string' ? await fs.readFile(input) : input;
  } catch (err) {
    throw new FormatError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    let pipeline = sharp(bytes);
    if (resizeTo) pipeline = pipeline.resize(resizeTo[1], resizeTo[0], { fit: 'fill' });
    pipeline = color === 'gray' ? pipeline.toColourspace('b-w') : pipeline.removeAlpha().toColourspace('srgb');
    raw = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw decodeError(file, err);
  }
  const { width, height, channels } = raw.info;
  const plane = width * height;
  const data = new Uint8Array(channels * plane);
  // libvips hands out interleaved HWC; the dataset contract is CHW.
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < plane; i++) data[c * plane + i] = raw.data[i * channels + c]!;
  }
  return { data, channels, height, width };
}

/** The centred h x w window of an 8-bit CHW image, zero outside it. */
export function centerFit(image: DecodedImage, height: number, width: number): DecodedImage {
  if (image.height === height && image.width === width) return image;
  const out = new Uint8Array(image.channels * height * width);
  const top = Math.floor((image.height - height) / 2);
  const left = Math.floor((image.width - width) / 2);
  const y0 = Math.max(0, -top);
  const y1 = Math.min(height, image.height - top);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(width, image.width - left);
  for (let c = 0; c < image.channels; c++) {
    for (let y = y0; y < y1; y++) {
      const src = (c * image.height + y + top) * image.width + left;
      out.set(image.data.subarray(src + x0, src + x1), (c * height + y) * width + x0);
    }
  }
  return { data: out, channels: image.channels, height, width };
}

/** Decodes and brings the image to exactly height x width. */
export async function decodeFitted(
  input: string | Uint8Array,
  file: string,
  color: ColorMode,
  size: readonly [number, number],
  fit: FitMode,
): Promise<DecodedImage> {
  if (fit === 'resize') return decodeImage(input, file, color, size);
  return centerFit(await decodeImage(input, file, color), size[0], size[1]);
}
