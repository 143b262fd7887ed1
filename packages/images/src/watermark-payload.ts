// WATERMARK_PAYLOAD: a 32-bit number (decimal or 0x hex) or a short text (UTF-8, ≤ 32 bytes).
import { bitsToText, bitsToUint32, textBits, uint32Bits } from './watermark.ts';

export interface WatermarkPayload { kind: 'uint32' | 'text'; bits: number[]; value: string }

export function parseWatermarkPayload(raw: string): WatermarkPayload {
  const v = raw.trim();
  if (/^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(v)) {
    const n = Number(v);
    return { kind: 'uint32', bits: uint32Bits(n), value: `0x${n.toString(16).padStart(8, '0')}` };
  }
  const bytes = Buffer.byteLength(v, 'utf8');
  if (bytes === 0 || bytes > 32) throw new RangeError('watermark text must be 1…32 bytes of UTF-8');
  return { kind: 'text', bits: textBits(v), value: v };
}

/** Reads bits back in the payload's form (the text, or the number as 0x hex). */
export function formatWatermarkBits(bits: number[], kind: WatermarkPayload['kind']): string {
  return kind === 'uint32' ? `0x${bitsToUint32(bits).toString(16).padStart(8, '0')}` : bitsToText(bits);
}
