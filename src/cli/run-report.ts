import type { RunSummary } from '../train/summary.js';
import { humanCount } from './output.js';

export function formatRunResult(summary: RunSummary, root: string): string {
  return [
    `${summary.name}: ${summary.model} on ${summary.data.kind}, ${summary.epochs} epochs, ${(summary.seconds / 60).toFixed(1)} min`,
    `test top-1 ${(100 * summary.top1).toFixed(2)}%  top-5 ${(100 * summary.top5).toFixed(2)}%  (${summary.data.testSize} images)`,
    `params ${humanCount(summary.params)}  non-zeros ${humanCount(summary.nonZeros)}  sparsity ${(100 * summary.sparsity).toFixed(1)}%  MACs ${humanCount(summary.denseMacs)} dense / ${humanCount(summary.effectiveMacs)} effective`,
    `results in ${root}/ (summary.json, metrics.jsonl, model.safetensors)`,
  ].join('\n');
}
