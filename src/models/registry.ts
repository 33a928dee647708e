import { ConfigError } from '../errors.js';
import { countMacs } from '../nn/macs.js';
import type { Module } from '../nn/module.js';
import { noGrad, zeros } from '../torch/tensor.js';
import { tidy } from '../torch/scope.js';
import { AConvNet } from './aconvnet.js';
import { cifarResNet, sarResNet18 } from './resnet.js';
import { Vgg, vggConfigs } from './vgg.js';
import { WideResNet } from './wrn.js';

export interface ModelOptions {
  numClasses: number;
  inChannels: number;
}

export interface ModelEntry {
  name: string;
  description: string;
  /** The input the model was designed for: [channels, height, width]. */
  defaultInput: readonly [number, number, number];
  build(options: ModelOptions): Module;
}

const cifar = [3, 32, 32] as const;
const sar = [1, 88, 88] as const;

const entries: ModelEntry[] = [
  ...([20, 32, 44, 56, 110] as const).map((depth) => ({
    name: `resnet${depth}`,
    description: `CIFAR ResNet-${depth} (He et al. 2016), widths 16/32/64, option-B (1x1 conv) shortcuts`,
    defaultInput: cifar,
    build: (o: ModelOptions) => cifarResNet(depth, [16, 16, 32, 64], o.numClasses, o.inChannels),
  })),
  {
    name: 'resnet8x4',
    description: 'ResNet-8 with 4x widths 32/64/128/256 (CRD/RepDistiller benchmark student)',
    defaultInput: cifar,
    build: (o) => cifarResNet(8, [32, 64, 128, 256], o.numClasses, o.inChannels),
  },
  {
    name: 'resnet32x4',
    description: 'ResNet-32 with 4x widths 32/64/128/256 (CRD/RepDistiller benchmark teacher)',
    defaultInput: cifar,
    build: (o) => cifarResNet(32, [32, 64, 128, 256], o.numClasses, o.inChannels),
  },
  {
    name: 'wrn16_2',
    description: 'Wide ResNet 16-2 (Zagoruyko & Komodakis 2016), pre-activation',
    defaultInput: cifar,
    build: (o) => new WideResNet(16, 2, o.numClasses, o.inChannels),
  },
  {
    name: 'wrn40_2',
    description: 'Wide ResNet 40-2 (Zagoruyko & Komodakis 2016), pre-activation',
    defaultInput: cifar,
    build: (o) => new WideResNet(40, 2, o.numClasses, o.inChannels),
  },
  {
    name: 'vgg8',
    description: 'CIFAR VGG-8 with BN (RepDistiller layout)',
    defaultInput: cifar,
    build: (o) => new Vgg(vggConfigs.vgg8, o.numClasses, o.inChannels),
  },
  {
    name: 'vgg13',
    description: 'CIFAR VGG-13 with BN (RepDistiller layout)',
    defaultInput: cifar,
    build: (o) => new Vgg(vggConfigs.vgg13, o.numClasses, o.inChannels),
  },
  {
    name: 'aconvnet',
    description: 'A-ConvNets (Chen et al. 2016) for 88x88 SAR chips, all-convolutional, BN added',
    defaultInput: sar,
    build: (o) => new AConvNet(o.numClasses, o.inChannels),
  },
  {
    name: 'aconvnet_x2',
    description: 'A-ConvNets at twice the width (32-64-128-256), a wider SAR teacher',
    defaultInput: sar,
    build: (o) => new AConvNet(o.numClasses, o.inChannels, 2),
  },
  {
    name: 'sar_resnet18',
    description: 'dst SAR teacher: ResNet-18 layout for 88x88 chips, 5x5 stride-2 stem, widths 32-256',
    defaultInput: sar,
    build: (o) => sarResNet18(o.numClasses, o.inChannels),
  },
];

const byName = new Map(entries.map((e) => [e.name, e]));

export function modelEntry(name: string): ModelEntry {
  const entry = byName.get(name);
  if (entry === undefined) throw new ConfigError('model', `unknown model '${name}'; known: ${[...byName.keys()].join(', ')}`);
  return entry;
}

export function createModel(name: string, options: Partial<ModelOptions> = {}): Module {
  const entry = modelEntry(name);
  const numClasses = options.numClasses ?? 10;
  const inChannels = options.inChannels ?? entry.defaultInput[0];
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new ConfigError('numClasses', `must be an integer >= 2, got ${numClasses}`);
  if (!Number.isInteger(inChannels) || inChannels < 1) throw new ConfigError('inChannels', `must be a positive integer, got ${inChannels}`);
  return entry.build({ numClasses, inChannels });
}

export interface ModelFacts {
  name: string;
  description: string;
  input: [number, number, number];
  params: number;
  /** Multiply-accumulates of one image's forward pass (conv and linear layers). */
  macs: number;
}

/** Parameters and MACs of a model for an input of [channels, height, width] (default: its own). */
export function modelFacts(name: string, options: Partial<ModelOptions> & { input?: readonly [number, number, number] } = {}): ModelFacts {
  const entry = modelEntry(name);
  const input = options.input ?? entry.defaultInput;
  const model = createModel(name, { ...options, inChannels: input[0] });
  try {
    model.eval();
    const macs = countMacs(() => noGrad(() => tidy(() => void model.forward(zeros([1, ...input])))));
    return { name, description: entry.description, input: [...input], params: model.parameterCount(), macs };
  } finally {
    model.dispose();
  }
}

export function listModels(options: Partial<ModelOptions> = {}): ModelFacts[] {
  return entries.map((e) => modelFacts(e.name, { numClasses: options.numClasses }));
}

export function modelNames(): string[] {
  return entries.map((e) => e.name);
}
