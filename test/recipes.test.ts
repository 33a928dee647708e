import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePipeline } from '../src/distill/pipeline.js';
import { pipelineSchema } from '../src/distill/pipeline-recipe.js';
import { readRecipeFile, trainRecipeSchema, validateRecipe } from '../src/train/recipe.js';

const dir = path.resolve(import.meta.dirname, '..', 'recipes');

describe('recipes in the repository', () => {
  for (const file of readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f))) {
    it(`${file} is valid`, async () => {
      const raw = await readRecipeFile(path.join(dir, file));
      if ('methods' in raw) {
        const recipe = validateRecipe(pipelineSchema, raw, file);
        const { teacherRecipe, cohorts } = resolvePipeline(recipe, 'runs/x');
        expect(teacherRecipe.model.length).toBeGreaterThan(0);
        expect(cohorts).toHaveLength(recipe.seeds?.length ?? 1);
        for (const cohort of cohorts) expect(cohort.students.size).toBe(recipe.methods.length);
      } else {
        expect(validateRecipe(trainRecipeSchema, raw, file).model.length).toBeGreaterThan(0);
      }
    });
  }
});
