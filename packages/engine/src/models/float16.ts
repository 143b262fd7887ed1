/**
 * float32 ↔ IEEE half conversion for fp16 graphs, whose tensors travel as raw bits in Uint16Array.
 * Uses the engine's native Float16Array (exact, round-to-nearest-even) when present; the scalar
 * fallback does the same rounding bit by bit.
 */

interface F16ArrayLike { set(src: ArrayLike<number>): void; readonly length: number; [i: number]: number }
type F16Ctor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => F16ArrayLike;
const NativeF16 = (globalThis as { Float16Array?: F16Ctor }).Float16Array;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mant |= 0x800000; // implicit bit, then shift into the subnormal range with RNE
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // may carry into the exponent: still correct
  return sign | h;
}

function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Writes float32 values as half bits into `out` (allocated when absent). */
export function float32ToFloat16Bits(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  if (NativeF16) {
    new NativeF16(out.buffer, out.byteOffset, out.length).set(src);
    return out;
  }
  for (let i = 0; i < src.length; i++) out[i] = toHalfBits(src[i]!);
  return out;
}

/** Reads half bits back to float32 (exact: every half is a float32). */
export function float16BitsToFloat32(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  if (NativeF16) {
    out.set(new NativeF16(src.buffer, src.byteOffset, src.length) as unknown as ArrayLike<number>);
    return out;
  }
  for (let i = 0; i < src.length; i++) out[i] = fromHalfBits(src[i]!);
  return out;
}

/** Scalar versions, exported for tests of the fallback path. */
export const halfBits = { fromFloat: toHalfBits, toFloat: fromHalfBits };
