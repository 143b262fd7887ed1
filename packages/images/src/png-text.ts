// PNG text chunks: the `parameters` chunk A1111 users' tools read. tEXt when the text is Latin-1,
// else uncompressed iTXt (UTF-8), as PIL's PngInfo.add_text does. Inserted right after IHDR.
import { crc32, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  typeAndData.copy(out, 4);
  out.writeUInt32BE(crc32(typeAndData) >>> 0, 8 + data.length);
  return out;
}

function isLatin1(text: string): boolean {
  return /^[\u0000-\u00ff]*$/.test(text);
}

export function textChunk(keyword: string, text: string): Buffer {
  if (!/^[\u0020-\u007e\u00a1-\u00ff]{1,79}$/.test(keyword)) throw new RangeError(`invalid PNG text keyword ${JSON.stringify(keyword)}`);
  const key = Buffer.from(keyword, 'latin1');
  if (isLatin1(text)) return chunk('tEXt', Buffer.concat([key, Buffer.from([0]), Buffer.from(text, 'latin1')]));
  // keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, UTF-8 text
  return chunk('iTXt', Buffer.concat([key, Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]));
}

/** An uncompressed iTXt chunk whatever the text (XMP must be iTXt, keyword `XML:com.adobe.xmp`). */
export function itxtChunk(keyword: string, text: string): Buffer {
  if (!/^[\u0020-\u007e\u00a1-\u00ff]{1,79}$/.test(keyword)) throw new RangeError(`invalid PNG text keyword ${JSON.stringify(keyword)}`);
  return chunk('iTXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]));
}

/** Inserts ready-made chunks right after IHDR. */
export function insertPngChunks(png: Uint8Array, chunks: Buffer[]): Buffer {
  const buf = assertPng(png);
  const afterIhdr = 8 + 12 + buf.readUInt32BE(8);
  return Buffer.concat([buf.subarray(0, afterIhdr), ...chunks, buf.subarray(afterIhdr)]);
}

function assertPng(png: Uint8Array): Buffer {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (buf.length < 33 || !buf.subarray(0, 8).equals(SIGNATURE) || buf.toString('latin1', 12, 16) !== 'IHDR') {
    throw new RangeError('not a PNG');
  }
  return buf;
}

export function insertPngText(png: Uint8Array, keyword: string, text: string): Buffer {
  const buf = assertPng(png);
  const afterIhdr = 8 + 12 + buf.readUInt32BE(8);
  return Buffer.concat([buf.subarray(0, afterIhdr), textChunk(keyword, text), buf.subarray(afterIhdr)]);
}

/** All tEXt, zTXt and iTXt chunks, keyword → text. Chunks with a bad CRC are skipped. */
export function readPngText(png: Uint8Array): Record<string, string> {
  const buf = assertPng(png);
  const out: Record<string, string> = {};
  let pos = 8;
  while (pos + 12 <= buf.length) {
    const length = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const end = pos + 12 + length;
    if (end > buf.length) break;
    const data = buf.subarray(pos + 8, pos + 8 + length);
    const crcOk = (crc32(buf.subarray(pos + 4, pos + 8 + length)) >>> 0) === buf.readUInt32BE(pos + 8 + length);
    if (crcOk) readTextChunk(type, data, out);
    if (type === 'IEND') break;
    pos = end;
  }
  return out;
}

function readTextChunk(type: string, data: Buffer, out: Record<string, string>): void {
  const nul = data.indexOf(0);
  if (nul < 0) return;
  const keyword = data.toString('latin1', 0, nul);
  if (type === 'tEXt') {
    out[keyword] = data.toString('latin1', nul + 1);
  } else if (type === 'zTXt') {
    out[keyword] = inflateSync(data.subarray(nul + 2)).toString('latin1');
  } else if (type === 'iTXt') {
    const compressed = data[nul + 1] === 1;
    const langEnd = data.indexOf(0, nul + 3);
    const transEnd = langEnd < 0 ? -1 : data.indexOf(0, langEnd + 1);
    if (transEnd < 0) return;
    const body = data.subarray(transEnd + 1);
    out[keyword] = (compressed ? inflateSync(body) : body).toString('utf8');
  }
}
