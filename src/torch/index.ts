export {
  Tensor,
  tensor,
  scalar,
  zeros,
  ones,
  full,
  arange,
  rand,
  randn,
  randint,
  randperm,
  manualSeed,
  cat,
  stack,
  where,
  noGrad,
  liveTensors,
  type DType,
  type TypedData,
  type Operand,
} from './tensor.js';
export { tidy, keep } from './scope.js';
export { SGD, type SgdOptions } from './optim.js';
export { getNumThreads, setNumThreads } from './threads.js';
export { versionInfo, type TorchVersionInfo } from './version.js';
export { initProcessGroup, distributedAvailable, ProcessGroup, type ProcessGroupOptions } from './distributed.js';
