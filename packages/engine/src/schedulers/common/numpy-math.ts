// The numpy behaviours that timestep and sigma schedules depend on, reproduced exactly, plus the
// small dense solver UniPC needs.

const f = Math.fround;

/** np.round / np.around: round half to even (banker's rounding), unlike Math.round. */
export function roundHalfEven(x: number): number {
  const fl = Math.floor(x);
  if (x - fl === 0.5) return fl % 2 === 0 ? fl : fl + 1;
  return Math.round(x);
}

/** np.linspace(start, stop, num, endpoint): i * step + start in float64, last value exactly stop. */
export function npLinspace(start: number, stop: number, num: number, endpoint = true): Float64Array {
  const out = new Float64Array(num);
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/**
 * np.arange(start, stop, step) with a float step. numpy stores start and start + step, then fills
 * the rest as start + i * delta with delta = (start + step) - start (which may differ from step by
 * an ulp).
 */
export function npArange(start: number, stop: number, step: number): Float64Array {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Float64Array(n);
  if (n === 0) return out;
  const delta = (start + step) - start;
  for (let i = 0; i < n; i++) out[i] = i === 0 ? start : i === 1 ? start + step : start + i * delta;
  return out;
}

/** np.interp(x, arange(len(fp)), fp): float64 result from float32 table values. */
export function npInterp(x: ArrayLike<number>, fp: Float32Array): Float64Array {
  const out = new Float64Array(x.length);
  const last = fp.length - 1;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v > 0)) out[i] = v === 0 || v < 0 ? fp[0]! : NaN;
    else if (v >= last) out[i] = fp[last]!;
    else {
      const j = Math.floor(v);
      out[i] = (fp[j + 1]! - fp[j]!) * (v - j) + fp[j]!;
    }
  }
  return out;
}

/** np.log of a float32 array (float32 result). */
export function logF32(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(Math.log(x[i]!));
  return out;
}

/** Solve the small dense system A x = b (Gaussian elimination with partial pivoting). */
export function solveSmall(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row.slice(0, n), b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = c + 1; r < n; r++) {
      const k = m[r]![c]! / m[c]![c]!;
      for (let j = c; j <= n; j++) m[r]![j]! -= k * m[c]![j]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let j = r + 1; j < n; j++) s -= m[r]![j]! * x[j]!;
    x[r] = s / m[r]![r]!;
  }
  return x;
}
