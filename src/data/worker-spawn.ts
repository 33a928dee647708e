/**
 * Starts a worker thread on a sibling module of src/data. Installed, the
 * modules are compiled .js and the worker loads directly. Run from the .ts
 * sources (vitest, development) Node 20 cannot load TypeScript, so the worker
 * first registers a loader hook that maps `./x.js` to `./x.ts` and strips
 * types with the project's own `typescript` devDependency.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const TS_HOOK = `
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
let ts;
export async function initialize(data) { ts = (await import(data.typescript)).default; }
export async function resolve(specifier, context, next) {
  try { return await next(specifier, context); }
  catch (err) {
    if (err.code === 'ERR_MODULE_NOT_FOUND' && specifier.startsWith('.') && specifier.endsWith('.js'))
      return next(specifier.slice(0, -3) + '.ts', context);
    throw err;
  }
}
export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const source = await readFile(fileURLToPath(url), 'utf8');
  const out = ts.transpileModule(source, { fileName: fileURLToPath(url), compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}`;

export function spawnModuleWorker(moduleName: string, workerData: unknown): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = new URL(`./${moduleName}${fromSources ? '.ts' : '.js'}`, import.meta.url);
  if (!fromSources) return new Worker(entry, { workerData });
  const typescript = pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href;
  const hook = `data:text/javascript,${encodeURIComponent(TS_HOOK)}`;
  const bootstrap = [
    `require('node:module').register(${JSON.stringify(hook)}, { data: { typescript: ${JSON.stringify(typescript)} } });`,
    `import(${JSON.stringify(entry.href)}).catch((err) => { throw err; });`,
  ].join('\n');
  return new Worker(bootstrap, { eval: true, workerData });
}
