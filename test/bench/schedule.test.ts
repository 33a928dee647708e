import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { availableIsas, loadModelBytes, type Isa } from '../../src/runtime/index.js';
import { dst } from '../cli/run-cli.js';
import { pruned, randomInput, resnet20 } from '../engine/graphs.js';

const graph = resnet20(1, 32);
const models = {
  'ResNet-20 dense': writeUhp(graph),
  'ResNet-20 UHP 2:4:16': writeUhp(pruned(graph, { kind: 'uhp', n: 2, m: 4, block: 16 })),
};

describe("the engine's pool schedule", () => {
  // Each output pixel's sum runs in one order whichever thread computes it, so the split cannot change a bit.
  for (const [name, bytes] of Object.entries(models)) {
    it(`${name}: two threads give exactly the scores of one, on every kernel set, one image or four`, () => {
      for (const isa of availableIsas() as Isa[]) {
        const one = loadModelBytes(bytes, name, { isa, threads: 1 });
        const two = loadModelBytes(bytes, name, { isa, threads: 2, schedule: 'pool' });
        try {
          expect(two.schedule).toBe('pool');
          for (const batch of [1, 4]) {
            const input = randomInput(3 * 32 * 32 * batch, batch);
            expect(two.run(input, batch), `${isa}, batch ${batch}`).toEqual(one.run(input, batch));
          }
        } finally {
          one.dispose();
          two.dispose();
        }
      }
    });
  }
});

describe('dst bench --schedule', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'dst-bench-'));
  const file = path.join(work, 'resnet20.uhp');
  writeFileSync(file, writeUhp(resnet20(1, 8, 8)));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('runs the engine rows on the schedule asked for and records it in --json', () => {
    const r = dst(['bench', '--model', file, '--runs', '3', '--threads', '2', '--schedule', 'caller', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ threads: 2, schedule: 'caller' });
  });

  it("prints the schedule next to the kernel set, 'pool' by default", () => {
    const r = dst(['bench', '--model', file, '--runs', '3', '--threads', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^CPU: .*; engine kernels: \w+, schedule pool$/m);
  });

  it('refuses another schedule in one line naming the option', () => {
    const r = dst(['bench', '--model', file, '--schedule', 'fastest']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--schedule: expected one of pool, caller, auto, got 'fastest'/);
  });
});
