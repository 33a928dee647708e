export { applyMask, srSteDecay } from './apply.js';
export { channelMask } from './channel.js';
export type { LayerKind, LayerWeight } from './layer.js';
export { computeMasks, type MaskOptions } from './masks.js';
export {
  formatPattern,
  parsePattern,
  UHP_GROUP_SIZES,
  validatePattern,
  type ChannelPattern,
  type Pattern,
  type UhpPattern,
  type UnstructuredPattern,
} from './pattern.js';
export {
  cubicSparsityAt,
  keepCountAt,
  maskUpdateDue,
  type CubicSchedule,
  type MaskUpdatePolicy,
  type NmSchedule,
} from './schedule.js';
export { layerStats, modelStats, type LayerStats, type ModelStats } from './stats.js';
export { checkUniformity, uhpMask, type UniformityReport } from './uhp.js';
export {
  uhpGeometry,
  uhpGroupSize,
  uhpKeepCount,
  uhpPatternBits,
  uhpPatternMasks,
  uhpPosition,
  uhpPositions,
  type UhpGeometry,
  type UhpGrouping,
} from './uhp-geometry.js';
export { prunedCount, unstructuredMasks } from './unstructured.js';
