/**
 * Public face of src/quant: post-training int8 quantization, the grids a
 * quantization-aware run recorded, and the integer reference every int8
 * engine matches. The fake-quantized training model (fake-quant*.ts) needs
 * LibTorch and is imported from its own modules.
 */
export { quantizeGraph, quantizeWithValues, checkQuantizable } from './quantize.js';
export { WEIGHT_CODE_MAX } from './params.js';
export { quantizeWithRecorded, readRecordedRanges, writeRecordedRanges, RANGES_FILE } from './recorded-ranges.js';
export type { RecordedRanges } from './recorded-ranges.js';
export { calibrateRanges, checkCalibrationSet, DEFAULT_PERCENTILE } from './calibrate.js';
export type { CalibrationOptions, CalibrationSet } from './calibrate.js';
export { CALIBRATION_METHODS, DEFAULT_CALIBRATION_IMAGES, DEFAULT_CALIBRATION_METHOD } from './ranges.js';
export type { CalibrationMethod } from './ranges.js';
export { runCalibrationSet } from './run-data.js';
export { quantFault } from './check.js';
export { pixelTable, quantizeInput, runInt8, runInt8Values } from './reference.js';
export type { Int8Output } from './reference.js';
export { clamp8, divRound, quantizeMultiplier, requantize, roundHalfAway } from './fixed-point.js';
