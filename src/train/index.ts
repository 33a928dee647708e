export { trainRecipeSchema, validateRecipe, readRecipeFile, type TrainRecipe, type TrainRecipeInput } from './recipe.js';
export { learningRateAt } from './schedule.js';
export { ClassificationMeter } from './metrics.js';
export { evaluate, type EvalResult } from './evaluate.js';
export { train, DivergedError, type TrainHooks, type TrainEvent, type EpochRecord, type StepInfo } from './trainer.js';
export { trainRun, checkRunDir, type RunControl } from './run.js';
export { RunDir } from './run-dir.js';
export { saveModelFile, loadModelFile, type ModelFileInfo } from './model-file.js';
export { buildSummary, sparsityStats, type RunSummary } from './summary.js';
