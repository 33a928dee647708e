import { ConfigError } from '../errors.js';
import { weightLayers, type WeightLayer } from '../nn/inspect.js';
import type { Module } from '../nn/module.js';
import { noGrad, tensor } from '../torch/tensor.js';
import { tidy } from '../torch/scope.js';
import type { LayerWeight } from './layer.js';
import { selectLayers } from './layer.js';
import { computeMasks } from './masks.js';
import type { Pattern } from './pattern.js';
import { cubicSparsityAt, keepCountAt, maskUpdateDue } from './schedule.js';

export interface PruningSchedule {
  /** Epochs over which sparsity ramps up (N:M keep count M -> N, or the cubic schedule); 0 = one-shot. */
  gradualEpochs: number;
  /** Re-choose masks every this many steps while ramping. */
  updateEvery: number;
  /** While masks move, pruned weights keep their gradient so connections can return. */
  straightThrough: boolean;
  /** SR-STE (Zhou et al. 2021) decay λ on pruned weights while masks move; 0 turns it off. */
  srSteDecay: number;
  include?: string[];
  exclude?: string[];
}

/** The model's conv/linear layers as the mask maths sees them (weights copied out of LibTorch). */
export function layerWeights(layers: readonly WeightLayer[]): LayerWeight[] {
  return layers.map((l) => ({ name: l.name, kind: l.kind, shape: [...l.module.weight.shape], data: l.module.weight.data() as Float32Array }));
}

/** The 0/1 masks installed on a model's layers, by layer name. */
export function installedMasks(model: Module): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const l of weightLayers(model)) {
    const mask = l.module.weightMask;
    if (mask !== null) out.set(l.name, Uint8Array.from(mask.data() as Float32Array));
  }
  return out;
}

/**
 * Drives masks through training: chooses them by magnitude on the schedule,
 * applies SR-STE while they move, then fixes them and keeps pruned weights at
 * exactly zero. Its methods are the trainer's hooks; everything it does is a
 * function of the global step, so a resumed run continues identically.
 */
export class PruningController {
  readonly layers: WeightLayer[];
  readonly rampSteps: number;
  #fixed = false;

  constructor(
    model: Module,
    readonly pattern: Pattern,
    readonly schedule: PruningSchedule,
    readonly stepsPerEpoch: number,
  ) {
    if (pattern.kind === 'dense') throw new ConfigError('sparsity', 'a pruning method needs a sparsity pattern, not dense');
    if (!(schedule.gradualEpochs >= 0)) throw new ConfigError('prune.gradualEpochs', `must be >= 0, got ${schedule.gradualEpochs}`);
    if (!Number.isInteger(schedule.updateEvery) || schedule.updateEvery < 1) throw new ConfigError('prune.updateEvery', `must be an integer >= 1, got ${schedule.updateEvery}`);
    const all = weightLayers(model);
    const selected = new Set(selectLayers(layerWeights(all), schedule.include, schedule.exclude).map((l) => l.name));
    this.layers = all.filter((l) => selected.has(l.name));
    if (this.layers.length === 0) throw new ConfigError('prune.include', 'selects no layer to prune');
    this.rampSteps = Math.round(schedule.gradualEpochs * stepsPerEpoch);
  }

  /** Masks for the global step `step` (the ramp's current target), as the schedule defines them. */
  #choose(step: number): void {
    const p = this.pattern;
    const epoch = step / this.stepsPerEpoch;
    let masks: Map<string, Uint8Array>;
    const weights = layerWeights(this.layers);
    if (p.kind === 'uhp') {
      const keep = keepCountAt({ n: p.n, m: p.m, startEpoch: 0, epochs: this.schedule.gradualEpochs }, epoch);
      masks = computeMasks(weights, p, { keepOverride: keep });
    } else if (p.kind === 'unstructured' || p.kind === 'channel') {
      const intervals = Math.max(1, Math.floor(this.rampSteps / this.schedule.updateEvery));
      const sparsity =
        this.rampSteps === 0 ? p.sparsity : cubicSparsityAt({ initialSparsity: 0, finalSparsity: p.sparsity, startStep: 0, pruningSteps: intervals, interval: this.schedule.updateEvery }, step);
      masks = sparsity === 0 ? new Map(weights.map((w) => [w.name, new Uint8Array(w.data.length).fill(1)])) : computeMasks(weights, { ...p, sparsity });
    } else {
      return;
    }
    tidy(() => {
      for (const layer of this.layers) {
        const mask = masks.get(layer.name);
        if (mask === undefined) continue;
        layer.module.setWeightMask(tensor(Float32Array.from(mask), layer.module.weight.shape));
      }
    });
  }

  #fix(): void {
    for (const layer of this.layers) {
      layer.module.straightThrough = false;
      layer.module.applyMaskToWeight();
    }
    this.#fixed = true;
  }

  /** Chooses the first masks; before training starts, so a checkpoint's saved masks can overwrite them. */
  install(): void {
    this.#choose(0);
  }

  /** Called when training starts or resumes, with the next global step. */
  start(globalStep: number): void {
    if (globalStep >= this.rampSteps) this.#fix();
    else for (const layer of this.layers) layer.module.straightThrough = this.schedule.straightThrough;
  }

  /** SR-STE: adds λ·(1-mask)·w to the gradient of pruned weights while masks still move. */
  beforeStep(): void {
    if (this.#fixed || this.schedule.srSteDecay === 0) return;
    noGrad(() =>
      tidy(() => {
        for (const layer of this.layers) {
          const mask = layer.module.weightMask;
          const grad = layer.module.weight.grad;
          if (mask === null || grad === null) continue;
          grad.add_(layer.module.weight.mul(mask.neg().add_(1)), this.schedule.srSteDecay);
        }
      }),
    );
  }

  /** After the optimizer step `globalStep` (0-based): re-choose masks when due, fix them at the end of the ramp. */
  afterStep(globalStep: number): void {
    const next = globalStep + 1;
    if (this.#fixed) {
      for (const layer of this.layers) layer.module.applyMaskToWeight();
      return;
    }
    if (next >= this.rampSteps) {
      this.#choose(next);
      this.#fix();
    } else if (maskUpdateDue({ every: this.schedule.updateEvery, until: this.rampSteps }, next)) {
      this.#choose(next);
    }
  }

  /** Fraction of pruned weights over the controlled layers. */
  sparsity(): number {
    let total = 0;
    let kept = 0;
    for (const layer of this.layers) {
      const mask = layer.module.weightMask;
      total += layer.module.weight.size;
      kept += mask === null ? layer.module.weight.size : tidy(() => mask.sum().item());
    }
    return 1 - kept / total;
  }

  get fixed(): boolean {
    return this.#fixed;
  }
}
