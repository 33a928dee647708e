// One rank of the two-process tests in distributed.test.ts. It reads RANK,
// WORLD_SIZE, MASTER_ADDR and MASTER_PORT like a PyTorch worker, runs the
// scenario named in argv, prints its results as one JSON line and exits 0; a
// failure goes to stderr as the error's message, exit code 3.
import { initProcessGroup, tensor } from '../../src/torch/index.js';

const scenario = process.argv[2];
const timeoutMs = Number(process.argv[3] ?? 20_000);

try {
  const pg = initProcessGroup({ timeoutMs });
  const r = pg.rank;
  if (scenario === 'collectives') {
    const a = tensor([r + 1, 10 * (r + 1)], [2]);
    const b = tensor([r], [1, 1]);
    pg.allReduce([a, b]);
    const sum = [...a.toArray(), ...b.toArray()];
    const c = tensor([r + 1, 2 * (r + 1), 3 * (r + 1)], [3]);
    pg.allReduce([c], { average: true });
    const x = tensor([100 * r + 1, 100 * r + 2], [2]);
    const y = tensor([-r], [1]);
    pg.broadcast([x, y], 1);
    pg.barrier();
    pg.destroy();
    console.log(JSON.stringify({ rank: r, worldSize: pg.worldSize, sum, average: c.toArray(), broadcast: [...x.toArray(), ...y.toArray()] }));
  } else if (scenario === 'early-exit') {
    pg.barrier();
    // Rank 1 leaves without taking part; rank 0's all-reduce must fail, not wait forever.
    if (r === 1) process.exit(0);
    pg.allReduce([tensor([1, 2, 3], [3])]);
    console.log(JSON.stringify({ rank: r, unexpected: 'allReduce returned' }));
  } else if (scenario === 'stall') {
    pg.barrier();
    // Rank 1 stays connected but silent for twice the timeout: rank 0 must time out.
    if (r === 1) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2 * timeoutMs);
      process.exit(0);
    }
    pg.allReduce([tensor([1, 2, 3], [3])]);
    console.log(JSON.stringify({ rank: r, unexpected: 'allReduce returned' }));
  } else if (scenario === 'join') {
    pg.barrier();
    pg.destroy();
    console.log(JSON.stringify({ rank: r, joined: true }));
  } else {
    throw new Error(`unknown scenario '${scenario}'`);
  }
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(3);
}
