/**
 * float32 log and sincos exactly as ATen's AVX2 `normal_fill_16_AVX2` computes them: the Cephes
 * polynomials of avx_mathfun.h (log256_ps, sincos256_ps), one lane at a time, every operation
 * rounded to float32. GCC builds those kernels with -mfma and contracts a multiply into the
 * following add when the product has no other use; `fmaf` marks exactly those places (checked
 * bit for bit against the avx2_* goldens).
 */
import { fmaf } from './fmaf.ts';

const f = Math.fround;

const SQRTHF = f(0.707106781186547524);
const LOG_P0 = f(7.0376836292e-2);
const LOG_P1 = f(-1.1514610310e-1);
const LOG_P2 = f(1.1676998740e-1);
const LOG_P3 = f(-1.2420140846e-1);
const LOG_P4 = f(1.4249322787e-1);
const LOG_P5 = f(-1.6668057665e-1);
const LOG_P6 = f(2.0000714765e-1);
const LOG_P7 = f(-2.4999993993e-1);
const LOG_P8 = f(3.3333331174e-1);
const LOG_Q1 = f(-2.12194440e-4);
const LOG_Q2 = f(0.693359375);

const FOPI = f(1.27323954473516); // 4 / pi
const MINUS_DP1 = f(-0.78515625);
const MINUS_DP2 = f(-2.4187564849853515625e-4);
const MINUS_DP3 = f(-3.77489497744594108e-8);
const SIN_P0 = f(-1.9515295891e-4);
const SIN_P1 = f(8.3321608736e-3);
const SIN_P2 = f(-1.6666654611e-1);
const COS_P0 = f(2.443315711809948e-5);
const COS_P1 = f(-1.388731625493765e-3);
const COS_P2 = f(4.166664568298827e-2);

const floatBox = new Float32Array(1);
const intBox = new Int32Array(floatBox.buffer);

/** log256_ps for one positive normal float32 `x` (the kernel only passes values in (0, 1]). */
export function logAvx2(x: number): number {
  floatBox[0] = x;
  const bits = intBox[0]!;
  let e = (bits >>> 23) - 126; // exponent + 1, so that the mantissa below lies in [0.5, 1)
  intBox[0] = (bits & ~0x7f800000) | 0x3f000000;
  let m = floatBox[0]!;
  if (m < SQRTHF) {
    e -= 1;
    m = f(f(m - 1) + m);
  } else {
    m = f(m - 1);
  }
  const z = f(m * m);
  let y = fmaf(LOG_P0, m, LOG_P1);
  y = fmaf(y, m, LOG_P2);
  y = fmaf(y, m, LOG_P3);
  y = fmaf(y, m, LOG_P4);
  y = fmaf(y, m, LOG_P5);
  y = fmaf(y, m, LOG_P6);
  y = fmaf(y, m, LOG_P7);
  y = fmaf(y, m, LOG_P8);
  y = f(y * m);
  y = fmaf(y, z, f(e * LOG_Q1));
  y = f(y - f(z * 0.5));
  m = f(m + y);
  return fmaf(e, LOG_Q2, m);
}

/** Results of the last `sincosAvx2` call (kept out of the return value to avoid allocating). */
export const sincosOut = { sin: 0, cos: 0 };

/** sincos256_ps for one float32 angle. */
export function sincosAvx2(angle: number): void {
  let x = Math.abs(angle);
  let j = Math.trunc(f(x * FOPI));
  j = (j + 1) & ~1;
  // Extended-precision reduction: x - j * pi/4 in three parts.
  x = fmaf(j, MINUS_DP1, x);
  x = fmaf(j, MINUS_DP2, x);
  x = fmaf(j, MINUS_DP3, x);
  const z = f(x * x);

  let c = fmaf(COS_P0, z, COS_P1);
  c = fmaf(c, z, COS_P2);
  c = f(c * z);
  c = fmaf(c, z, -f(z * 0.5));
  c = f(c + 1);

  let s = fmaf(SIN_P0, z, SIN_P1);
  s = fmaf(s, z, SIN_P2);
  s = f(s * z);
  s = fmaf(s, x, x);

  const sinFromSinPoly = (j & 2) === 0;
  let sin = sinFromSinPoly ? s : c;
  let cos = sinFromSinPoly ? c : s;
  if ((angle < 0) !== ((j & 4) !== 0)) sin = -sin;
  if ((~(j - 2) & 4) !== 0) cos = -cos;
  sincosOut.sin = sin;
  sincosOut.cos = cos;
}
