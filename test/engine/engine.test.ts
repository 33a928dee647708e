import { describe, expect, it } from 'vitest';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { availableIsas, loadModelBytes } from '../../src/runtime/index.js';
import { aconvnet, oddities, pruned, randomInput, reference, relError, resnet20, rowsCases, type PruneSpec } from './graphs.js';

const specs: [string, PruneSpec][] = [
  ['dense', { kind: 'dense' }],
  ['uhp 2:4 B1', { kind: 'uhp', n: 2, m: 4, block: 1 }],
  ['uhp 2:4 B8', { kind: 'uhp', n: 2, m: 4, block: 8 }],
  ['uhp 2:4 B16', { kind: 'uhp', n: 2, m: 4, block: 16 }],
  ['uhp 1:4 B2', { kind: 'uhp', n: 1, m: 4, block: 2 }],
  ['uhp 4:8 B1', { kind: 'uhp', n: 4, m: 8, block: 1 }],
  ['uhp 1:2 B1', { kind: 'uhp', n: 1, m: 2, block: 1 }],
  ['uhp 8:16 B32', { kind: 'uhp', n: 8, m: 16, block: 32 }],
  ['csr 50%', { kind: 'unstructured' }],
];

const models = { resnet20: resnet20(1, 16), aconvnet: aconvnet(), oddities: oddities(), rowsCases: rowsCases() };
const isas = availableIsas();

describe('engine matches a float64 reference', () => {
  for (const [modelName, graph] of Object.entries(models)) {
    for (const [specName, spec] of specs) {
      it(`${modelName} ${specName} on ${isas.join(', ')}`, () => {
        const g = pruned(graph, spec);
        const bytes = writeUhp(g);
        const batch = 2;
        const first = loadModelBytes(bytes, `${modelName}.uhp`, { isa: 'scalar' });
        const per = first.inputShape.reduce((a, b) => a * b, 1);
        const input = randomInput(per * batch, 7);
        const want = [0, 1].map((b) => reference(g, input.subarray(b * per, (b + 1) * per)));
        first.dispose();
        for (const isa of isas) {
          for (const threads of [1, 2]) {
            const m = loadModelBytes(bytes, `${modelName}.uhp`, { isa: isa as 'scalar', threads });
            const out = m.run(input, batch);
            const n = out.length / batch;
            for (let b = 0; b < batch; b++) {
              const err = relError(out.subarray(b * n, (b + 1) * n), want[b]);
              expect(err, `${isa} x${threads} image ${b}`).toBeLessThan(1e-4);
            }
            m.dispose();
          }
        }
      });
    }
  }
});

describe('threads', () => {
  it('gives the same bits whether an image runs on the pool or on the caller alone', () => {
    // With 2 threads the engine runs its first 6 images on the pool, the next 6 on the caller alone, then retries the slower mode now and then.
    const bytes = writeUhp(pruned(resnet20(1, 16), { kind: 'uhp', n: 2, m: 4, block: 1 }));
    const one = loadModelBytes(bytes, 'r20.uhp', { threads: 1 });
    const two = loadModelBytes(bytes, 'r20.uhp', { threads: 2 });
    const per = one.inputShape.reduce((a, b) => a * b, 1);
    const x = randomInput(per, 11);
    const want = one.run(x);
    const images = 40;
    const batch = new Float32Array(per * images);
    for (let i = 0; i < images; i++) batch.set(x, i * per);
    const got = two.run(batch, images);
    for (let i = 0; i < images; i++) expect(Array.from(got.subarray(i * want.length, (i + 1) * want.length))).toEqual(Array.from(want));
    one.dispose();
    two.dispose();
  });
});
