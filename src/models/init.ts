import { Conv2d } from '../nn/layers.js';
import { kaimingNormal_ } from '../nn/init.js';
import type { Module } from '../nn/module.js';

/** The zoo's reference implementations re-initialise convs with He normal (fan-out, ReLU gain). */
export function heInitConvs(model: Module): void {
  for (const [, m] of model.namedModules()) {
    if (m instanceof Conv2d) kaimingNormal_(m.weight, 'fanOut');
  }
}
