/** The build and driver files a project gets are native/project's, all of them, with the export's default target. */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectFiles } from '../../src/export/c/emit-project.js';
import { nativeDir } from '../../src/export/c/kernel-sources.js';

describe('project files from native/project', () => {
  it('every file of native/project is written into the project unchanged, the Makefile with the default target', () => {
    const dir = nativeDir('project');
    const files = projectFiles('qemu-m7');
    const copied = new Set([...files.values()]);
    for (const name of readdirSync(dir)) {
      const text = readFileSync(path.join(dir, name), 'utf8');
      if (name === 'Makefile') expect(files.get('Makefile')).toBe(text.replace(/^TARGET \?= generic$/m, 'TARGET ?= qemu-m7'));
      else expect(copied.has(text), name).toBe(true);
    }
    expect(files.size).toBe(readdirSync(dir).length);
  });
});
