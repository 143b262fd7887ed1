// Elementwise typed-array kernels for scheduler updates. Coefficients are computed once per step
// in float64; each loop is one pass with no allocation beyond the output.

/** out = a*x + b*y */
export function axpby(a: number, x: Float32Array, b: number, y: Float32Array, out: Float32Array = new Float32Array(x.length)): Float32Array {
  const n = x.length;
  for (let i = 0; i < n; i++) out[i] = a * x[i]! + b * y[i]!;
  return out;
}

/** out = a*x + b*y + c*z */
export function axpbypcz(
  a: number, x: Float32Array, b: number, y: Float32Array, c: number, z: Float32Array,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  const n = x.length;
  for (let i = 0; i < n; i++) out[i] = a * x[i]! + b * y[i]! + c * z[i]!;
  return out;
}

/** out = sum_k coeffs[k] * xs[k] (any number of terms). */
export function linearCombination(coeffs: readonly number[], xs: readonly Float32Array[], out?: Float32Array): Float32Array {
  const n = xs[0]!.length;
  const res = out ?? new Float32Array(n);
  const k = xs.length;
  if (k === 1) { const c = coeffs[0]!, x = xs[0]!; for (let i = 0; i < n; i++) res[i] = c * x[i]!; return res; }
  if (k === 2) return axpby(coeffs[0]!, xs[0]!, coeffs[1]!, xs[1]!, res);
  if (k === 3) return axpbypcz(coeffs[0]!, xs[0]!, coeffs[1]!, xs[1]!, coeffs[2]!, xs[2]!, res);
  const acc = new Float64Array(n);
  for (let j = 0; j < k; j++) {
    const c = coeffs[j]!, x = xs[j]!;
    for (let i = 0; i < n; i++) acc[i]! += c * x[i]!;
  }
  res.set(acc);
  return res;
}

/** out = a*x */
export function scaled(a: number, x: Float32Array, out: Float32Array = new Float32Array(x.length)): Float32Array {
  const n = x.length;
  for (let i = 0; i < n; i++) out[i] = a * x[i]!;
  return out;
}

/** In place clamp to [-r, r]. */
export function clampInPlace(x: Float32Array, r: number): Float32Array {
  const n = x.length;
  for (let i = 0; i < n; i++) { const v = x[i]!; if (v > r) x[i] = r; else if (v < -r) x[i] = -r; }
  return x;
}
