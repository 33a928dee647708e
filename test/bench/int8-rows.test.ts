/** dst bench's int8 rows: engine int8 dense and UHP and onnxruntime's QDQ model, beside the float rows, for float and int8 files. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { quantizeGraph } from '../../src/quant/index.js';
import { dst } from '../cli/run-cli.js';
import { pruned, resnet20 } from '../engine/graphs.js';
import { calibrationSet } from '../quant/graphs.js';

describe('dst bench int8 rows', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'dst-bench-int8-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const graph = pruned(resnet20(1, 8, 8), { kind: 'uhp', n: 2, m: 4, block: 16 });
  const files = {
    float: path.join(work, 'float.uhp'),
    int8: path.join(work, 'int8.uhp'),
  };
  writeFileSync(files.float, writeUhp(graph));
  writeFileSync(files.int8, writeUhp(quantizeGraph(graph, calibrationSet(graph, 4, 1), { method: 'minmax' })));

  for (const [kind, file] of Object.entries(files)) {
    it(`a ${kind} .uhp gets float and int8 rows, each timed`, () => {
      const r = dst(['bench', '--model', file, '--runs', '3', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as { rows: { name: string; ms: number; bytes: number }[]; notes: string[] };
      expect(result.rows.map((row) => row.name)).toEqual([
        'LibTorch dense',
        'onnxruntime dense',
        'engine dense',
        'engine unstructured 50% (CSR)',
        'engine UHP uhp:2:4:16',
        'engine int8 dense',
        'engine int8 UHP uhp:2:4:16',
        'onnxruntime int8 (QDQ)',
      ]);
      for (const row of result.rows) expect(row.ms, row.name).toBeGreaterThan(0);
      const bytes = new Map(result.rows.map((row) => [row.name, row.bytes]));
      // int8 weights: about a quarter of the float file's
      expect(bytes.get('engine int8 UHP uhp:2:4:16')! / bytes.get('engine UHP uhp:2:4:16')!).toBeLessThan(0.45);
      expect(result.notes.join('\n')).toMatch(/int8 rows quantize .* random inputs \(speed only/);
    }, 60_000);
  }
});
