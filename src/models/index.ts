export { createModel, listModels, modelFacts, modelEntry, modelNames, type ModelEntry, type ModelFacts, type ModelOptions } from './registry.js';
export { ResNet, BasicBlock, cifarResNet, sarResNet18 } from './resnet.js';
export { WideResNet } from './wrn.js';
export { Vgg } from './vgg.js';
export { AConvNet } from './aconvnet.js';
