/**
 * The README's commands run as written.
 *
 * Convention: every fenced `sh` block of README.md is run, in document order,
 * in one temporary folder (so later blocks see the runs earlier ones wrote,
 * and nothing lands in the repository), unless the line just before its
 * opening fence is the HTML comment `<!-- test: skip -->`, which a reader of
 * the rendered README does not see. Skip the blocks that install, run the
 * whole test suite, train for minutes or need data dst does not ship.
 * `node bin/dst.js` and `recipes/` work there because the folder holds links
 * to the repository's `bin/` and `recipes/` (the CLI runs from `dist/`:
 * `npm run build` first).
 *
 * The `ts` block (the library example) is compiled against the package's
 * published types (`dist/index.d.ts`) and run after the shell blocks, so it
 * can load the `.uhp` file the tour exported.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const readmePath = path.join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const SKIP = '<!-- test: skip -->';

interface Block {
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  skip: boolean;
}

function fencedBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`README.md:${i + 1}: unclosed code block`);
    blocks.push({ lang: open[1]!, code: lines.slice(i + 1, end).join('\n'), line: i + 1, skip: i > 0 && lines[i - 1]!.trim() === SKIP });
    i = end;
  }
  return blocks;
}

interface Result {
  code: number;
  output: string;
}

function run(command: string, args: readonly string[], cwd: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, CI: '1' } });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

const blocks = fencedBlocks(readme);
const shell = blocks.filter((b) => b.lang === 'sh' && !b.skip);
const library = blocks.filter((b) => b.lang === 'ts' && !b.skip);

describe('README.md', () => {
  it('is at most 300 lines', () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(300);
  });

  it('points at nothing outside the repository and tells no history', () => {
    const docs = [readmePath, ...listMarkdown(path.join(root, 'docs'))];
    for (const file of docs) {
      const text = readFileSync(file, 'utf8');
      const name = path.relative(root, file);
      expect(text.includes('../shared'), `${name} mentions ../shared`).toBe(false);
      expect(/DESIGN\.md/.test(text), `${name} mentions DESIGN.md`).toBe(false);
      expect(/\bsessions?\b/i.exec(text)?.[0], `${name} mentions a session`).toBeUndefined();
    }
  });

  it('gives the test command that .ci/run runs', () => {
    const ci = readFileSync(path.join(root, '.ci', 'run'), 'utf8').trim().split('\n');
    const testCommand = ci[ci.length - 1]!.trim();
    expect(blocks.some((b) => b.lang === 'sh' && b.code.trim() === testCommand), `README has no sh block '${testCommand}'`).toBe(true);
  });

  it('has runnable commands and a library example', () => {
    expect(shell.length).toBeGreaterThanOrEqual(4);
    expect(library.length).toBe(1);
  });
});

describe('README.md commands, run as written', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dst-readme-'));
    symlinkSync(path.join(root, 'bin'), path.join(dir, 'bin'));
    symlinkSync(path.join(root, 'recipes'), path.join(dir, 'recipes'));
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  for (const block of shell) {
    const first = block.code.split('\n')[0]!;
    it(`line ${block.line}: ${first.length > 60 ? `${first.slice(0, 57)}...` : first}`, async () => {
      const r = await run('bash', ['-e', '-o', 'pipefail', '-c', block.code], dir);
      expect(r.code, `README.md:${block.line} failed:\n${block.code}\n--- output ---\n${r.output.slice(-4000)}`).toBe(0);
    }, 300_000);
  }

  it('library example type-checks against dist/index.d.ts and runs', async () => {
    const example = path.join(dir, 'example');
    mkdirSync(path.join(example, 'node_modules'), { recursive: true });
    symlinkSync(root, path.join(example, 'node_modules', 'dst'));
    writeFileSync(path.join(example, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(
      path.join(example, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: ['node'], typeRoots: [path.join(root, 'node_modules', '@types')], outDir: 'out' },
        files: ['example.ts'],
      }),
    );
    writeFileSync(path.join(example, 'example.ts'), library[0]!.code);
    const tsc = await run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', example], example);
    expect(tsc.code, `README.md:${library[0]!.line} does not type-check:\n${tsc.output}`).toBe(0);
    // Run from the tour's folder: the example loads runs/tour/dst.uhp.
    const node = await run(process.execPath, [path.join(example, 'out', 'example.js')], dir);
    expect(node.code, `README.md:${library[0]!.line} failed:\n${node.output.slice(-4000)}`).toBe(0);
  }, 300_000);
});

function listMarkdown(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(folder, e.name);
    if (e.isDirectory()) return listMarkdown(full);
    return e.name.endsWith('.md') ? [full] : [];
  });
}
