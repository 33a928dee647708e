import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acrossSeedsRow, comparisonMarkdown, resolvePipeline } from '../../src/distill/pipeline.js';
import { pipelineSchema } from '../../src/distill/pipeline-recipe.js';
import { METHODS } from '../../src/distill/recipe.js';
import { pipelineStages, runStages } from '../../src/distill/stages.js';
import { validateRecipe } from '../../src/train/recipe.js';

function stagesOf(methods: string[], student: Record<string, unknown> = {}, more: Record<string, unknown> = {}) {
  const recipe = validateRecipe(pipelineSchema, { data: 'synthetic', teacher: { model: 'resnet32' }, student: { model: 'resnet20', ...student }, methods, ...more }, 'test');
  const { teacherRecipe, cohorts } = resolvePipeline(recipe, 'out');
  return pipelineStages('out', teacherRecipe, cohorts, METHODS.filter((m) => recipe.methods.includes(m)));
}

describe('pipeline stages', () => {
  it('wait for the teacher when they learn from it and for the run they start from', () => {
    const deps = Object.fromEntries(stagesOf(['dst', 'prune', 'kd', 'scratch', 'unstructured-kd']).map((s) => [s.name, s.after]));
    expect(deps).toEqual({
      teacher: [],
      scratch: [],
      kd: ['teacher'],
      prune: ['scratch'],
      'unstructured-kd': ['teacher', 'kd'],
      dst: ['teacher', 'kd'],
    });
  });

  it('start dst from the scratch run when dst.start says so', () => {
    const stages = stagesOf(['scratch', 'kd', 'dst'], { dst: { start: 'scratch' } });
    const dst = stages.find((s) => s.name === 'dst')!;
    expect(dst.after).toEqual(['teacher', 'scratch']);
    expect(dst.command === 'distill' && dst.recipe.init).toBe(path.join('out', 'scratch'));
  });

  it('without the dense runs in the list, a pruning method depends on nothing but its teacher', () => {
    const stages = stagesOf(['prune', 'dst']);
    expect(stages.map((s) => [s.name, s.after])).toEqual([
      ['teacher', []],
      ['prune', []],
      ['dst', ['teacher']],
    ]);
    expect(stages[2]!.dir).toBe(path.join('out', 'dst'));
  });

  it('train the students once per seed, each seed in its own folder and from its own dense runs, and the teacher once', () => {
    const stages = stagesOf(['scratch', 'kd', 'dst'], {}, { seed: 7, seeds: [3, 1] });
    expect(stages.map((s) => [s.name, s.after])).toEqual([
      ['teacher', []],
      ['seed-3/scratch', []],
      ['seed-3/kd', ['teacher']],
      ['seed-3/dst', ['teacher', 'seed-3/kd']],
      ['seed-1/scratch', []],
      ['seed-1/kd', ['teacher']],
      ['seed-1/dst', ['teacher', 'seed-1/kd']],
    ]);
    const byName = new Map(stages.map((s) => [s.name, s]));
    expect(byName.get('teacher')!.recipe.seed).toBe(7);
    expect(byName.get('seed-1/kd')!.recipe.seed).toBe(1);
    expect(byName.get('seed-1/kd')!.dir).toBe(path.join('out', 'seed-1', 'kd'));
    const dst = byName.get('seed-3/dst')!;
    expect(dst.command === 'distill' && [dst.recipe.seed, dst.recipe.init, dst.recipe.teacher]).toEqual([3, path.join('out', 'seed-3', 'kd'), path.join('out', 'teacher')]);
  });

  it('check the shared keys with the train recipe\'s types, naming the pipeline\'s own key', () => {
    expect(() => stagesOf(['scratch'], {}, { transforms: { train: [{ op: 'flip' }] } })).toThrow(/^test: transforms\.train\.0/);
    expect(() => stagesOf(['scratch'], {}, { batchSize: 0 })).toThrow(/^test: batchSize: /);
  });

  it('refuse a student seed beside seeds, and a seed listed twice', () => {
    expect(() => stagesOf(['scratch'], { seed: 2 }, { seeds: [0, 1] })).toThrow(/^student\.seed: cannot be set with seeds/);
    expect(() => stagesOf(['scratch'], {}, { seeds: [0, 0] })).toThrow(/seeds: lists a seed twice/);
  });
});

describe('comparison over seeds', () => {
  const base = { model: 'aconvnet', top5: 1, params: 10, nonZeros: 5, sparsity: 0.5, pattern: 'uhp:2:4', uniform: true, denseMacs: 4, effectiveMacs: 2 };
  const rows = [0.9856, 0.9885, 0.9885].map((top1, i) => ({ ...base, method: 'dst' as const, top1, minutes: 10 + i, run: `out/seed-${i}/dst` }));

  it('gives the mean, the sample standard deviation, the values per seed and the summed CPU time', () => {
    const r = acrossSeedsRow([0, 1, 2], rows);
    expect(r.top1).toBeCloseTo(0.987533, 6);
    expect(r.acrossSeeds).toEqual({ seeds: [0, 1, 2], top1: [0.9856, 0.9885, 0.9885], top1Sd: expect.closeTo(0.0016743, 6), runs: ['out/seed-0/dst', 'out/seed-1/dst', 'out/seed-2/dst'] });
    expect(r.minutes).toBe(33);
    const table = comparisonMarkdown([{ ...base, method: 'teacher', top1: 0.993, minutes: 40, run: 'out/teacher' }, r]).split('\n');
    expect(table[0]).toMatch(/\| top-1 % \(mean ± sd\) \| top-1 % of seeds 0, 1, 2 \|/);
    expect(table[2]).toMatch(/^\| teacher \| aconvnet \| 99\.30 \| - \| 100\.00 \|/);
    expect(table[3]).toMatch(/^\| dst \| aconvnet \| 98\.75 ± 0\.17 \| 98\.56 \/ 98\.85 \/ 98\.85 \| 100\.00 \|.* 33\.0 \|$/);
  });

  it('gives no spread for a single seed', () => {
    const table = comparisonMarkdown([acrossSeedsRow([1], rows.slice(1, 2))]).split('\n');
    expect(table[0]).toMatch(/^\| method \| model \| top-1 % \| top-1 % of seed 1 \| top-5 % \|/);
    expect(table[2]).toMatch(/^\| dst \| aconvnet \| 98\.85 \| 98\.85 \| 100\.00 \|/);
  });
});

/** Stages that take `ms` each and log when they start and end. */
function timed(log: string[], ms: Record<string, number>, fail?: string) {
  return async (stage: { name: string }, signal: AbortSignal): Promise<void> => {
    log.push(`start ${stage.name}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms[stage.name] ?? 5);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error(`${stage.name} aborted`));
      });
    });
    if (stage.name === fail) {
      log.push(`fail ${stage.name}`);
      throw new Error(`${stage.name} broke`);
    }
    log.push(`end ${stage.name}`);
  };
}

describe('runStages', () => {
  const graph = [
    { name: 'teacher', after: [] },
    { name: 'scratch', after: [] },
    { name: 'kd', after: ['teacher'] },
    { name: 'prune', after: ['scratch'] },
    { name: 'dst', after: ['teacher', 'kd'] },
  ];

  it('runs one stage at a time in list order with parallel 1', async () => {
    const log: string[] = [];
    await runStages(graph, 1, timed(log, {}));
    expect(log.filter((l) => l.startsWith('start'))).toEqual(['start teacher', 'start scratch', 'start kd', 'start prune', 'start dst']);
    for (let i = 0; i < log.length; i += 2) expect(log[i + 1]).toBe(log[i]!.replace('start', 'end'));
  });

  it('keeps `parallel` stages busy and starts none before its dependencies end', async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const inner = timed(log, { teacher: 40, scratch: 10, prune: 10, kd: 20, dst: 5 });
    await runStages(graph, 2, async (stage, signal) => {
      most = Math.max(most, ++running);
      await inner(stage, signal);
      running--;
    });
    expect(most).toBe(2);
    const at = (entry: string) => log.indexOf(entry);
    expect(at('start scratch')).toBeLessThan(at('end teacher'));
    expect(at('start prune')).toBeGreaterThan(at('end scratch'));
    expect(at('start prune')).toBeLessThan(at('end teacher'));
    expect(at('start kd')).toBeGreaterThan(at('end teacher'));
    expect(at('start dst')).toBeGreaterThan(at('end kd'));
    expect(log.filter((l) => l.startsWith('end'))).toHaveLength(5);
  });

  it('stops the running stages on the first failure, starts nothing after it, and throws that failure', async () => {
    const log: string[] = [];
    await expect(runStages(graph, 2, timed(log, { teacher: 200, scratch: 5 }, 'scratch'))).rejects.toThrow('scratch broke');
    expect(log).toEqual(['start teacher', 'start scratch', 'fail scratch']);
  });

  it('reports stages that wait for a stage the pipeline lacks', async () => {
    await expect(runStages([{ name: 'kd', after: ['teacher'] }], 2, timed([], {}))).rejects.toThrow(/kd wait for stages/);
  });
});
