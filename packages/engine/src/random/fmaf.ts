/**
 * Single-precision fused multiply-add: round(a*b + c) to float32 with one rounding, as the
 * `vfmadd` instructions do. a*b of two floats is exact in a double; the sum is then rounded
 * twice (to double, then to float), which is wrong only when the double lands exactly on a
 * float half-way point while the exact sum does not: that case is detected and nudged.
 */
const scratch = new Float64Array(1);
const scratchBits = new Uint32Array(scratch.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE ? 0 : 1;

export function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  // TwoSum: the exact error of s = p + c.
  const bv = s - p;
  const err = (p - (s - bv)) + (c - bv);
  if (err === 0) return Math.fround(s);
  scratch[0] = s;
  // A float32 half-way point has the 29 low mantissa bits of its double equal to 1 followed by 28 zeros.
  if ((scratchBits[LO]! & 0x1fffffff) !== 0x10000000) return Math.fround(s);
  // Move s one double ulp towards the exact value so the tie breaks the right way.
  const towardsLarger = (err > 0) === (s > 0);
  scratchBits[LO] = scratchBits[LO]! + (towardsLarger ? 1 : -1);
  return Math.fround(scratch[0]!);
}
