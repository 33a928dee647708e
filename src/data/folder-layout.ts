/**
 * The layouts image-folder datasets come in, resolved to labelled file lists:
 * - split: `train/<class>/*` beside `test/`, `val/` or `validation/` (testSplit chooses);
 * - tree:  `<class>/*` only, split per class by a seeded fraction (testFraction, seed);
 * - list:  `train.txt` and `test.txt` / `val.txt` / `validation.txt` with `path label`
 *          lines, and an optional class-names file (classes.txt).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, FormatError } from '../errors.js';
import { listClassTree } from './folder-classes.js';
import { findChild, subfolders } from './files.js';
import type { ImageFile } from './image-set.js';
import { checkLabels, readClassNames, readListFile } from './list-file.js';
import { stratifiedSplit } from './split.js';

export const FOLDER_LAYOUTS = ['auto', 'split', 'tree', 'list'] as const;
export type FolderLayout = Exclude<(typeof FOLDER_LAYOUTS)[number], 'auto'>;
export const TEST_SPLITS = ['auto', 'test', 'val', 'validation'] as const;
export type TestSplit = (typeof TEST_SPLITS)[number];

const TEST_NAMES = ['test', 'val', 'validation'] as const;
const CLASS_NAME_FILES = ['classes.txt', 'class_names.txt'];
const DEFAULT_TEST_FRACTION = 0.2;

/** Options of the layouts; undefined means "not given", so options a layout does not use can be refused. */
export interface LayoutOptions {
  layout?: (typeof FOLDER_LAYOUTS)[number];
  testSplit?: TestSplit;
  testFraction?: number;
  seed: number;
  trainList?: string;
  testList?: string;
  classNames?: string;
  imageRoot?: string;
}

export interface FolderFiles {
  layout: FolderLayout;
  classes: string[];
  train: ImageFile[];
  test: ImageFile[];
  /** What the test split was read from: 'test', 'val', 'validation' for folders and lists, 'test' for a fraction. */
  testName: string;
  /** For the run record and the log, e.g. 'train/ + val/ folders'. */
  description: string;
  /** The layout's options with the values used. */
  resolved: Record<string, unknown>;
}

const USED_BY: Record<string, readonly FolderLayout[]> = {
  testSplit: ['split', 'list'],
  testFraction: ['tree'],
  trainList: ['list'],
  testList: ['list'],
  classNames: ['list'],
  imageRoot: ['list'],
};

function refuseUnused(options: LayoutOptions, layout: FolderLayout, dir: string): void {
  for (const [key, layouts] of Object.entries(USED_BY)) {
    if (options[key as keyof LayoutOptions] !== undefined && !layouts.includes(layout)) {
      throw new ConfigError(key, `applies to the ${layouts.join(' and ')} layout${layouts.length > 1 ? 's' : ''}, and ${dir} is read as a ${layout} layout`);
    }
  }
}

async function detectLayout(dir: string, options: LayoutOptions): Promise<FolderLayout> {
  if (options.layout !== undefined && options.layout !== 'auto') return options.layout;
  if (await findChild(dir, 'train')) return 'split';
  if (options.trainList !== undefined || existsSync(path.join(dir, 'train.txt'))) return 'list';
  if ((await subfolders(dir)).length > 0) return 'tree';
  throw new FormatError(dir, 'holds neither train/ and test/ (or val/) folders, nor train.txt and val.txt lists, nor class folders');
}

async function readSplitFolders(dir: string, testSplit: TestSplit): Promise<FolderFiles> {
  const trainDir = await findChild(dir, 'train');
  if (!trainDir) throw new FormatError(dir, 'needs a train/ folder with one folder per class');
  const candidates = testSplit === 'auto' ? TEST_NAMES : [testSplit];
  let testName: string | undefined;
  let testDir: string | undefined;
  for (const name of candidates) {
    testDir = await findChild(dir, name);
    if (testDir) {
      testName = name;
      break;
    }
  }
  if (!testDir || !testName) {
    throw new FormatError(dir, testSplit === 'auto' ? 'needs a test/, val/ or validation/ folder beside train/' : `has no ${testSplit}/ folder (testSplit=${testSplit})`);
  }
  const train = await listClassTree(trainDir);
  const test = await listClassTree(testDir, train.classes);
  return {
    layout: 'split',
    classes: train.classes,
    train: train.files,
    test: test.files,
    testName,
    description: `${path.basename(trainDir)}/ + ${path.basename(testDir)}/ folders`,
    resolved: { testSplit: testName },
  };
}

async function readTree(dir: string, testFraction: number, seed: number): Promise<FolderFiles> {
  const tree = await listClassTree(dir);
  const split = stratifiedSplit(tree.files.map((f) => f.label), testFraction, seed);
  return {
    layout: 'tree',
    classes: tree.classes,
    train: split.train.map((i) => tree.files[i]!),
    test: split.test.map((i) => tree.files[i]!),
    testName: 'test',
    description: `class folders, ${Math.round(100 * testFraction)}% of each class held out for test by seed ${seed}`,
    resolved: { testFraction },
  };
}

function firstExisting(dir: string, names: readonly string[]): string | undefined {
  return names.find((n) => existsSync(path.join(dir, n)));
}

async function readLists(dir: string, options: LayoutOptions): Promise<FolderFiles> {
  const testSplit = options.testSplit ?? 'auto';
  const trainList = options.trainList ?? 'train.txt';
  const testList = options.testList ?? firstExisting(dir, testSplit === 'auto' ? TEST_NAMES.map((n) => `${n}.txt`) : [`${testSplit}.txt`]);
  if (testList === undefined) {
    throw new FormatError(dir, testSplit === 'auto' ? 'needs a test.txt, val.txt or validation.txt list beside train.txt (or the testList option)' : `has no ${testSplit}.txt list (testSplit=${testSplit})`);
  }
  const imageRoot = path.resolve(dir, options.imageRoot ?? '.');
  const trainFile = path.resolve(dir, trainList);
  const testFile = path.resolve(dir, testList);
  const train = await readListFile(trainFile, imageRoot);
  const test = await readListFile(testFile, imageRoot);
  const namesFile = options.classNames ?? firstExisting(dir, CLASS_NAME_FILES);
  const namesPath = namesFile === undefined ? undefined : path.resolve(dir, namesFile);
  const classes = namesPath ? await readClassNames(namesPath) : Array.from({ length: Math.max(...train.map((f) => f.label)) + 1 }, (_, i) => String(i));
  checkLabels(train, classes, trainFile, namesPath);
  checkLabels(test, classes, testFile, namesPath);
  const testName = path.basename(testList).replace(/\.[^.]*$/, '');
  return {
    layout: 'list',
    classes,
    train: train.map(({ path: p, label }) => ({ path: p, label })),
    test: test.map(({ path: p, label }) => ({ path: p, label })),
    testName,
    description: `lists ${path.relative(dir, trainFile)} + ${path.relative(dir, testFile)}${namesPath ? `, class names from ${path.relative(dir, namesPath)}` : ''}`,
    resolved: { trainList: path.relative(dir, trainFile), testList: path.relative(dir, testFile), ...(namesPath ? { classNames: path.relative(dir, namesPath) } : {}), imageRoot: path.relative(dir, imageRoot) || '.' },
  };
}

/** Finds the layout of `dir` (or takes options.layout) and lists its train and test images. */
export async function readFolderLayout(dir: string, options: LayoutOptions): Promise<FolderFiles> {
  const layout = await detectLayout(dir, options);
  refuseUnused(options, layout, dir);
  let files: FolderFiles;
  switch (layout) {
    case 'split':
      files = await readSplitFolders(dir, options.testSplit ?? 'auto');
      break;
    case 'tree':
      files = await readTree(dir, options.testFraction ?? DEFAULT_TEST_FRACTION, options.seed);
      break;
    case 'list':
      files = await readLists(dir, options);
      break;
  }
  if (files.train.length === 0) throw new FormatError(dir, `${files.description}: no training images`);
  if (files.test.length === 0) throw new FormatError(dir, `${files.description}: no test images`);
  return { ...files, resolved: { layout, ...files.resolved } };
}
