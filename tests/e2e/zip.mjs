// Lists the entries of a ZIP file by reading its central directory (no dependencies).
import fs from 'node:fs';

export function listZip(file) {
  const buf = fs.readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error(`${file} is not a ZIP file (no end of central directory)`);
  let count = buf.readUInt16LE(eocd + 10);
  let offset = buf.readUInt32LE(eocd + 16);
  if (offset === 0xffffffff || count === 0xffff) {
    const loc = eocd - 20;   // ZIP64 locator
    if (buf.readUInt32LE(loc) !== 0x07064b50) throw new Error('bad ZIP64 locator');
    const rec = Number(buf.readBigUInt64LE(loc + 8));
    count = Number(buf.readBigUInt64LE(rec + 32));
    offset = Number(buf.readBigUInt64LE(rec + 48));
  }
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(offset) !== 0x02014b50) throw new Error('bad central directory entry');
    const size = buf.readUInt32LE(offset + 24);
    const nameLen = buf.readUInt16LE(offset + 28);
    const extraLen = buf.readUInt16LE(offset + 30);
    const commentLen = buf.readUInt16LE(offset + 32);
    const localOffset = buf.readUInt32LE(offset + 42);
    const method = buf.readUInt16LE(offset + 10);
    const compressed = buf.readUInt32LE(offset + 20);
    entries.push({ name: buf.toString('utf8', offset + 46, offset + 46 + nameLen), size, compressed, method, localOffset });
    offset += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

// The bytes of one stored or deflated entry.
export async function readZipEntry(file, entry) {
  const buf = fs.readFileSync(file);
  const o = entry.localOffset;
  const start = o + 30 + buf.readUInt16LE(o + 26) + buf.readUInt16LE(o + 28);
  const data = buf.subarray(start, start + entry.compressed);
  if (entry.method === 0) return data;
  if (entry.method === 8) return (await import('node:zlib')).inflateRawSync(data);
  throw new Error(`unsupported ZIP method ${entry.method}`);
}
