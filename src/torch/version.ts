import { torchAddon, type TorchVersionInfo } from './native.js';

export type { TorchVersionInfo };

export function versionInfo(): TorchVersionInfo {
  const { config: _config, ...facts } = torchAddon().versionInfo();
  return facts;
}
