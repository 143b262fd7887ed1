/**
 * glibc's float32 `logf` and `sincosf` (the implementations glibc has shipped since 2.27/2.28):
 * they evaluate in double with short tables and polynomials and are not correctly rounded
 * (up to ~0.82 ulp for logf, ~0.56 ulp for sinf/cosf), so `Math.fround(Math.log(x))` differs in
 * about 1 value in 50. ATen's scalar `normal_fill_16` calls them (GCC merges its sinf and cosf
 * of one angle into one sincosf), so the 'default' kernel reproduces their algorithms here.
 * Only the ranges that kernel uses are handled: logf of a positive normal float, sincosf of an
 * angle with |x| < 120.
 */
import { hexFloat as h } from './hex-float.ts';

// logf: x = 2^k z, log(x) = log(c) + log1p(z/c - 1) + k ln2, with c from a 16-entry table.
const LOGF_INVC = new Float64Array([
  h('0x1.661ec79f8f3bep+0'), h('0x1.571ed4aaf883dp+0'), h('0x1.49539f0f010bp+0'), h('0x1.3c995b0b80385p+0'),
  h('0x1.30d190c8864a5p+0'), h('0x1.25e227b0b8eap+0'), h('0x1.1bb4a4a1a343fp+0'), h('0x1.12358f08ae5bap+0'),
  h('0x1.0953f419900a7p+0'), h('0x1p+0'), h('0x1.e608cfd9a47acp-1'), h('0x1.ca4b31f026aap-1'),
  h('0x1.b2036576afce6p-1'), h('0x1.9c2d163a1aa2dp-1'), h('0x1.886e6037841edp-1'), h('0x1.767dcf5534862p-1'),
]);
const LOGF_LOGC = new Float64Array([
  h('-0x1.57bf7808caadep-2'), h('-0x1.2bef0a7c06ddbp-2'), h('-0x1.01eae7f513a67p-2'), h('-0x1.b31d8a68224e9p-3'),
  h('-0x1.6574f0ac07758p-3'), h('-0x1.1aa2bc79c81p-3'), h('-0x1.a4e76ce8c0e5ep-4'), h('-0x1.1973c5a611cccp-4'),
  h('-0x1.252f438e10c1ep-5'), h('0x0p+0'), h('0x1.aa5aa5df25984p-5'), h('0x1.c5e53aa362eb4p-4'),
  h('0x1.526e57720db08p-3'), h('0x1.bc2860d22477p-3'), h('0x1.1058bc8a07ee1p-2'), h('0x1.4043057b6ee09p-2'),
]);
const LN2 = h('0x1.62e42fefa39efp-1');
const LOGF_A0 = h('-0x1.00ea348b88334p-2');
const LOGF_A1 = h('0x1.5575b0be00b6ap-2');
const LOGF_A2 = h('-0x1.ffffef20a4123p-2');
const LOGF_OFF = 0x3f330000;

const floatBox = new Float32Array(1);
const uintBox = new Uint32Array(floatBox.buffer);

/** glibc logf for a positive normal float32. */
export function glibcLogf(x: number): number {
  floatBox[0] = x;
  const ix = uintBox[0]!;
  if (ix === 0x3f800000) return 0;
  const tmp = (ix - LOGF_OFF) >>> 0;
  const i = (tmp >>> 19) & 15;
  const k = (tmp | 0) >> 23;
  uintBox[0] = (ix - (tmp & (0x1ff << 23))) >>> 0;
  const z = floatBox[0]!;
  const r = z * LOGF_INVC[i]! - 1;
  const y0 = LOGF_LOGC[i]! + k * LN2;
  const r2 = r * r;
  let y = LOGF_A1 * r + LOGF_A2;
  y = LOGF_A0 * r2 + y;
  y = y * r2 + (y0 + r);
  return Math.fround(y);
}

// sincosf: reduce by the nearest multiple of pi/2, then short polynomials in double.
const HPI_INV_2P24 = h('0x1.45f306dc9c883p+23'); // 2/pi * 2^24
const HPI = h('0x1.921fb54442d18p0');
const PIO4_F32 = Math.fround(h('0x1.921fb54442d18p-1'));
const TINY_F32 = 2 ** -12;
const C0 = h('0x1p0');
const C1 = h('-0x1.ffffffd0c621cp-2');
const C2 = h('0x1.55553e1068f19p-5');
const C3 = h('-0x1.6c087e89a359dp-10');
const C4 = h('0x1.99343027bf8c3p-16');
const S1 = h('-0x1.555545995a603p-3');
const S2 = h('0x1.1107605230bc4p-7');
const S3 = h('-0x1.994eb3774cf24p-13');

/** Results of the last `glibcSincosf` call (kept out of the return value to avoid allocating). */
export const glibcSincosOut = { sin: 0, cos: 0 };

/** glibc sincosf for a float32 angle with |x| < 120. */
export function glibcSincosf(angle: number): void {
  const ax = Math.abs(angle);
  if (ax < PIO4_F32) {
    if (ax < TINY_F32) {
      glibcSincosOut.sin = angle;
      glibcSincosOut.cos = 1;
      return;
    }
    polynomials(angle, angle * angle, 1, 0);
    return;
  }
  const n = (Math.trunc(angle * HPI_INV_2P24) + 0x800000) >> 24;
  const x = angle - n * HPI;
  // Quadrant signs: sine flips in quadrants 1 and 2; the table for quadrants 2 and 3 negates cosine.
  const sign = (n & 3) === 1 || (n & 3) === 2 ? -1 : 1;
  polynomials(x * sign, x * x, n & 2 ? -1 : 1, n);
}

function polynomials(x: number, x2: number, cosSign: number, n: number): void {
  const x3 = x2 * x;
  const x4 = x2 * x2;
  const x5 = x3 * x2;
  const x6 = x4 * x2;
  const s = x + x3 * S1 + x5 * (S2 + x2 * S3);
  const c = cosSign * C0 + x2 * (cosSign * C1) + x4 * (cosSign * C2) + x6 * (cosSign * C3 + x2 * (cosSign * C4));
  const sinValue = Math.fround(s);
  const cosValue = Math.fround(c);
  // Odd quadrants swap the two polynomials.
  glibcSincosOut.sin = n & 1 ? cosValue : sinValue;
  glibcSincosOut.cos = n & 1 ? sinValue : cosValue;
}
