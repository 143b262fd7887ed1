/**
 * GPT-2/CLIP byte-level alphabet: every UTF-8 byte maps to one printable character, so BPE
 * never sees raw whitespace or control bytes. Printable Latin-1 bytes map to themselves; the
 * other 68 bytes map to U+0100 upwards, in byte order.
 */
function buildByteAlphabet(): string[] {
  const table = new Array<string>(256);
  const isPrintable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(isPrintable(b) ? b : next++);
  return table;
}

const BYTE_TO_CHAR = buildByteAlphabet();
const utf8 = new TextEncoder();

/** The UTF-8 bytes of `text`, each written as its byte-level character. */
export function toByteLevel(text: string): string {
  let out = '';
  for (const b of utf8.encode(text)) out += BYTE_TO_CHAR[b];
  return out;
}
