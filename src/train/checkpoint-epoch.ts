import { closeSync, openSync, readSync } from 'node:fs';

/**
 * The epochs a checkpoint has completed, read from its safetensors header
 * alone (no tensors, no LibTorch), or undefined if the file cannot say.
 */
export function checkpointEpoch(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = Buffer.alloc(8);
    readSync(fd, size, 0, 8, 0);
    const header = Buffer.alloc(Number(size.readBigUInt64LE(0)));
    readSync(fd, header, 0, header.length, 8);
    const metadata = (JSON.parse(header.toString('utf8')) as { __metadata__?: { state?: string } }).__metadata__;
    const epoch = (JSON.parse(metadata?.state ?? '{}') as { epoch?: unknown }).epoch;
    return typeof epoch === 'number' ? epoch : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
