import { existsSync } from 'node:fs';
import { FormatError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { loadSafetensors, saveSafetensors } from '../nn/safetensors.js';
import type { SGD } from '../torch/optim.js';
import type { Tensor } from '../torch/tensor.js';

const MOMENTUM = 'optimizer.momentum.';

export interface CheckpointState {
  /** Epochs completed. */
  epoch: number;
  /** Global optimizer steps taken. */
  step: number;
  history: Record<string, unknown>[];
}

/**
 * One file per checkpoint: model tensors by their state-dict keys, momentum
 * buffers under `optimizer.momentum.<index>`, the trainer state as JSON in
 * the metadata. One file keeps the write atomic.
 */
export async function saveCheckpoint(file: string, model: Module, optimizer: SGD, state: CheckpointState): Promise<void> {
  const tensors = new Map<string, Tensor>(model.stateDict());
  optimizer.momentumBuffers().forEach((b, i) => {
    if (b !== null) tensors.set(`${MOMENTUM}${i}`, b);
  });
  await saveSafetensors(file, tensors, { dst: 'checkpoint', state: JSON.stringify(state) });
}

export async function loadCheckpoint(file: string, model: Module, optimizer: SGD): Promise<CheckpointState> {
  if (!existsSync(file)) throw new FormatError(file, 'no checkpoint to resume from');
  const { tensors, metadata } = await loadSafetensors(file);
  try {
    if (metadata.dst !== 'checkpoint' || metadata.state === undefined) throw new FormatError(file, 'not a dst checkpoint (metadata.dst missing)');
    const modelTensors = new Map([...tensors].filter(([k]) => !k.startsWith(MOMENTUM)));
    model.loadStateDict(modelTensors);
    optimizer.loadMomentumBuffers(optimizer.params.map((_, i) => tensors.get(`${MOMENTUM}${i}`) ?? null));
    return JSON.parse(metadata.state) as CheckpointState;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
