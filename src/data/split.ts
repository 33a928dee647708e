/** Deterministic stratified train/test split for datasets that ship without one (FUSAR-Ship, OpenSARShip). */
import { mixSeed, permutation, Rng } from './rng.js';

const SPLIT_STREAM = 0x53504c54;

/**
 * Per class, a seeded shuffle of the items (taken in the given order) sends
 * round(n * testFraction) to test — at least one when the class has two or more
 * items, so every class is tested.
 */
export function stratifiedSplit(labels: ArrayLike<number>, testFraction: number, seed: number): { train: number[]; test: number[] } {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const members = byClass.get(labels[i]!) ?? [];
    members.push(i);
    byClass.set(labels[i]!, members);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (const [label, members] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
    const order = permutation(members.length, new Rng(mixSeed(seed, SPLIT_STREAM, label)));
    let testCount = Math.round(members.length * testFraction);
    if (testFraction > 0 && members.length >= 2) testCount = Math.max(1, Math.min(members.length - 1, testCount));
    order.forEach((k, j) => (j < testCount ? test : train).push(members[k]!));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}
