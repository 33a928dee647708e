export { Module, type StateDict } from './module.js';
export { Parameter } from './parameter.js';
export {
  Conv2d,
  BatchNorm2d,
  Linear,
  ReLU,
  Identity,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  Dropout,
  Flatten,
  Sequential,
  type Conv2dOptions,
  type BatchNorm2dOptions,
} from './layers.js';
export * as F from './functional.js';
export { countMacs, traceOutputPositions } from './macs.js';
export { kaimingNormal_, defaultWeightInit_, uniform_, normal_, fans } from './init.js';
export { encodeSafetensors, decodeSafetensors, saveSafetensors, readSafetensors, loadSafetensors, type RawTensor } from './safetensors.js';
export { weightLayers, outputPositions, type WeightLayer } from './inspect.js';
