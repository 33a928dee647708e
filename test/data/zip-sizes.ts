/**
 * Rewrites the uncompressed size a zip declares for one member, in its central
 * directory record and its local header, as a corrupt or hostile archive would
 * (a zip bomb understates it; an honest huge member states it).
 */
export function declareSize(archive: Buffer, member: string, size: number): Buffer {
  const out = Buffer.from(archive);
  const name = Buffer.from(member, 'utf8');
  for (let p = 0; p + 46 <= out.length; p++) {
    if (out.readUInt32LE(p) !== 0x02014b50 || out.readUInt16LE(p + 28) !== name.length) continue;
    if (!out.subarray(p + 46, p + 46 + name.length).equals(name)) continue;
    out.writeUInt32LE(size, p + 24);
    out.writeUInt32LE(size, out.readUInt32LE(p + 42) + 22);
    return out;
  }
  throw new Error(`no central directory record for ${member}`);
}
