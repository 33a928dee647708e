/**
 * OpenSARShip as distributed: one zip per Sentinel-1 scene, read in place.
 * Chips are `Patch_Uint8/<kind>_<Class>_x<col>_y<row>[_<pol>].tif` (some zips
 * put them under a top folder named after the scene); a chip without a
 * polarisation suffix comes from a single-polarisation scene (1SSV: VV, 1SSH: HH).
 * A ship is (scene, class, x, y); its VH and VV chips become channels when both are asked for.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, FormatError } from '../errors.js';
import { ArrayDataset, sharedUint8 } from './dataset.js';
import { decodeFitted, type FitMode } from './decode.js';
import { requireDir } from './files.js';
import type { ProgressCallback } from './progress.js';
import { stratifiedSplit } from './split.js';
import { ZipReader, type MemberLimit, type ZipEntry } from './zip.js';

export type Polarization = 'vv' | 'vh' | 'both';
/** 'three' maps AIS types to Cargo / Tanker / Other; 'all' keeps every type found as its own class. */
export type ShipClasses = 'three' | 'all';

export interface OpenSarShipOptions {
  polarization: Polarization;
  shipClasses: ShipClasses;
  size: readonly [number, number];
  fit: FitMode;
  testFraction: number;
  seed: number;
  onProgress?: ProgressCallback;
}

const CHIP = /^([A-Za-z0-9]+)_(.+)_x(\d+)_y(\d+)(?:_(vv|vh|hh|hv))?\.tiff?$/i;
const THREE = ['Cargo', 'Tanker', 'Other'];
// Chips are single-channel 8-bit TIFFs of one ship, tens to a few hundred
// pixels a side; 16 MiB (4096 x 4096 pixels) is far beyond any of them, and
// stops a corrupt or hostile zip from making a member inflate into gigabytes.
const CHIP_LIMIT: MemberLimit = { bytes: 16 * 2 ** 20, what: 'an OpenSARShip chip' };

interface Ship {
  zip: string;
  typeName: string;
  chips: Map<string, ZipEntry>;
}

/** The polarisation of a suffix-less chip, from the scene name's product code (…_1SSV_… / …_1SSH_…). */
function singlePolarization(scene: string): string {
  return /_1SSH_/i.test(scene) ? 'hh' : 'vv';
}

function channelsOf(polarization: Polarization): string[] {
  return polarization === 'both' ? ['vh', 'vv'] : [polarization];
}

function classOf(typeName: string, shipClasses: ShipClasses): string {
  if (shipClasses === 'all') return typeName;
  return typeName === 'Cargo' || typeName === 'Tanker' ? typeName : 'Other';
}

export async function readOpenSarShip(dir: string, options: OpenSarShipOptions): Promise<{ train: ArrayDataset; test: ArrayDataset }> {
  await requireDir(dir, 'OpenSARShip folder');
  const zips = (await fs.readdir(dir)).filter((f) => f.toLowerCase().endsWith('.zip')).sort();
  if (zips.length === 0) throw new FormatError(dir, 'holds no .zip files (OpenSARShip scenes)');
  const wanted = channelsOf(options.polarization);
  const readers = new Map<string, ZipReader>();
  try {
    const ships = new Map<string, Ship>();
    for (const name of zips) {
      const file = path.join(dir, name);
      const reader = await ZipReader.open(file);
      readers.set(file, reader);
      let chipsInZip = 0;
      for (const entry of reader.entries) {
        const parts = entry.name.split('/');
        if (parts.length < 2 || parts[parts.length - 2] !== 'Patch_Uint8') continue;
        const match = CHIP.exec(parts[parts.length - 1]!);
        if (!match) continue;
        chipsInZip++;
        const pol = match[5]?.toLowerCase() ?? singlePolarization(name);
        const key = `${name}|${match[2]}|${match[3]}|${match[4]}`;
        const ship = ships.get(key) ?? { zip: file, typeName: match[2]!, chips: new Map() };
        ship.chips.set(pol, entry);
        ships.set(key, ship);
      }
      if (chipsInZip === 0) throw new FormatError(file, 'holds no Patch_Uint8/<kind>_<Class>_x<col>_y<row>[_<pol>].tif chips');
    }
    const usable = [...ships.values()].filter((s) => wanted.every((p) => s.chips.has(p)));
    if (usable.length === 0) {
      throw new ConfigError('polarization', `no ship in ${dir} has ${wanted.join(' and ').toUpperCase()} chips`);
    }
    const classes = options.shipClasses === 'three' ? THREE : [...new Set(usable.map((s) => s.typeName))].sort();
    const labels = usable.map((s) => classes.indexOf(classOf(s.typeName, options.shipClasses)));
    const [height, width] = options.size;
    const per = wanted.length * height * width;
    const images = sharedUint8(usable.length * per);
    const stage = 'read opensarship';
    for (const [i, ship] of usable.entries()) {
      for (const [c, pol] of wanted.entries()) {
        const entry = ship.chips.get(pol)!;
        const where = `${ship.zip}:${entry.name}`;
        const chip = await decodeFitted(await readers.get(ship.zip)!.read(entry, CHIP_LIMIT), where, 'gray', options.size, options.fit);
        images.set(chip.data, i * per + c * height * width);
      }
      if ((i + 1) % 64 === 0 || i + 1 === usable.length) options.onProgress?.({ stage, done: i + 1, total: usable.length });
    }
    const all = new ArrayDataset('opensarship', classes, wanted.length, height, width, images, Int32Array.from(labels));
    const split = stratifiedSplit(labels, options.testFraction, options.seed);
    return { train: all.subset('opensarship/train', split.train), test: all.subset('opensarship/test', split.test) };
  } finally {
    await Promise.all([...readers.values()].map((r) => r.close()));
  }
}

