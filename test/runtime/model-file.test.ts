import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { loadModel } from '../../src/runtime/index.js';
import { oddities } from '../engine/graphs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dst-model-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const model = writeUhp(oddities());

describe('loadModel reads no more than the .uhp header declares', () => {
  it('loads a file whose size is the declared one', async () => {
    const file = path.join(dir, 'ok.uhp');
    writeFileSync(file, model);
    const m = await loadModel(file);
    expect(m.inputShape).toEqual([3, 10, 11]);
    m.dispose();
  });

  it('refuses a file longer than its header says, and one without the magic, before reading on', async () => {
    const longer = path.join(dir, 'longer.uhp');
    writeFileSync(longer, model);
    appendFileSync(longer, new Uint8Array(2 ** 20));
    await expect(loadModel(longer)).rejects.toThrow(new RegExp(`longer\\.uhp: file is ${model.length + 2 ** 20} bytes but its header says ${model.length}: truncated or extended$`));
    const text = path.join(dir, 'text.uhp');
    writeFileSync(text, 'x'.repeat(4096));
    await expect(loadModel(text)).rejects.toThrow(/text\.uhp: bad magic: not a \.uhp model file$/);
  });

  it('refuses a device or FIFO instead of reading it forever', async () => {
    await expect(loadModel('/dev/zero')).rejects.toThrow(/^\/dev\/zero: is a character device, not a regular file$/);
    const fifo = path.join(dir, 'pipe.uhp');
    execFileSync('mkfifo', [fifo]);
    await expect(loadModel(fifo)).rejects.toThrow(/pipe\.uhp: is a FIFO, not a regular file$/);
    await expect(loadModel(dir)).rejects.toThrow(/: is a folder, not a regular file$/);
  });
});
