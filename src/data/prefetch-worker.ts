/** Worker side of DataLoader prefetching: builds the requested batches off the main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { assembleBatch } from './batch.js';
import type { PrefetchInit, PrefetchReply, PrefetchRequest } from './prefetch-protocol.js';
import { Pipeline } from './transforms.js';

const init = workerData as PrefetchInit;
const port = parentPort!;
const pipeline = new Pipeline(init.transforms, init.input, init.stats);

port.on('message', (request: PrefetchRequest) => {
  try {
    const batch = assembleBatch(init.source, pipeline, request.indices, init.seed, request.epoch);
    port.postMessage({ id: request.id, x: batch.x, y: batch.y } satisfies PrefetchReply, [batch.x.buffer as ArrayBuffer, batch.y.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) } satisfies PrefetchReply);
  }
});
