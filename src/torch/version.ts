import { torchAddon } from './native.js';

export interface TorchVersionInfo {
  libtorch: string;
  onednn: boolean;
  openmp: boolean;
  threads: number;
  interopThreads: number;
  /** The ISA LibTorch's own kernels dispatch to (DEFAULT, AVX2, AVX512). */
  cpuCapability: string;
}

export function versionInfo(): TorchVersionInfo {
  const { libtorch, onednn, openmp, threads, interopThreads, cpuCapability } = torchAddon().versionInfo();
  return { libtorch, onednn, openmp, threads, interopThreads, cpuCapability };
}
