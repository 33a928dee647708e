export * as torch from './torch/index.js';
export * as nn from './nn/index.js';
export * as models from './models/index.js';
export { DstError, FormatError, ConfigError, ShapeError } from './errors.js';
