// Reads a PNG's size and its tEXt/iTXt chunks without a decoder: the e2e test checks what a
// client downloading the file would see.
import { inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngInfo { width: number; height: number; text: Record<string, string> }

export function readPng(buf: Buffer): PngInfo {
  if (buf.length < 33 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  const text: Record<string, string> = {};
  for (let off = 8; off + 12 <= buf.length;) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); }
    else if (type === 'tEXt') {
      const nul = data.indexOf(0);
      text[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
    } else if (type === 'iTXt') {
      // keyword \0 compressionFlag compressionMethod languageTag \0 translatedKeyword \0 text
      const k = data.indexOf(0);
      const compressed = data[k + 1] === 1;
      const lang = data.indexOf(0, k + 3);
      const trans = data.indexOf(0, lang + 1);
      const body = data.subarray(trans + 1);
      text[data.toString('latin1', 0, k)] = (compressed ? inflateSync(body) : body).toString('utf8');
    } else if (type === 'zTXt') {
      const k = data.indexOf(0);
      text[data.toString('latin1', 0, k)] = inflateSync(data.subarray(k + 2)).toString('latin1');
    } else if (type === 'IEND') break;
    off += 12 + len;
  }
  return { width, height, text };
}
