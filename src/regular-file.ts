/**
 * Model files and archives are read in pieces whose lengths their formats
 * declare, checked against the file's size, never "until the end": a device,
 * FIFO or socket has no size to check against (/dev/zero never ends), so only
 * regular files are opened.
 */
import { kMaxLength } from 'node:buffer';
import { constants, promises as fs, type Stats } from 'node:fs';
import { FormatError } from './errors.js';

function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

export class RegularFile {
  private constructor(
    readonly path: string,
    readonly size: number,
    private readonly handle: fs.FileHandle,
  ) {}

  /** Rejects with Node's own error when `file` cannot be opened (callers word ENOENT), with FormatError when it is not a regular file. */
  static async open(file: string): Promise<RegularFile> {
    // Without O_NONBLOCK, opening a FIFO waits for a writer that may never come.
    const handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new FormatError(file, `is ${kindOf(stat)}, not a regular file`);
      return new RegularFile(file, stat.size, handle);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * Up to `length` bytes from `position`, never past the size the file had
   * when opened, so a corrupt length cannot make it allocate more than the
   * file holds; a short result means the file is shorter than its format says.
   */
  async readAt(position: number, length: number): Promise<Buffer> {
    const wanted = Math.max(0, Math.min(length, this.size - position));
    if (wanted > kMaxLength) throw new FormatError(this.path, `${wanted} bytes at offset ${position} are more than the ${kMaxLength} dst reads into memory at once`);
    const buffer = Buffer.alloc(wanted);
    let filled = 0;
    while (filled < wanted) {
      const { bytesRead } = await this.handle.read(buffer, filled, wanted - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
