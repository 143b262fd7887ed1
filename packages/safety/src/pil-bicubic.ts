// Pillow's bicubic resize (libImaging/Resample.c, Pillow 9.x), ported exactly: separable
// convolution (horizontal pass, then vertical), cubic kernel a = −0.5 widened by the scale when
// downscaling, coefficients in fixed point with 22 fractional bits, each pass rounding and clamping
// to uint8. transformers' CLIPImageProcessor resizes with it, and the safety checker's verdict
// depends on the exact pixels, so an approximate resampler (libvips) is not good enough.

const PRECISION_BITS = 32 - 8 - 2;
const SUPPORT = 2;

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coefficients { bounds: Int32Array; kernel: Int32Array; ksize: number }

/** Fixed-point weights and [first, count] input ranges for each output position. */
function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kernel = new Int32Array(outSize * ksize);
  const weights = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    // C's (int) cast truncates toward zero.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubic((x + xmin - center + 0.5) * ss);
      weights[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? weights[x]! / ww : weights[x]!;
      kernel[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { bounds, kernel, ksize };
}

function clip8(v: number): number {
  if (v >= 1 << PRECISION_BITS << 8) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

/** One pass along x (stride 1 pixel) or y (stride one row) of an interleaved uint8 image. */
function pass(src: Uint8Array, w: number, h: number, ch: number, outW: number, outH: number, horizontal: boolean): Uint8Array {
  const c = coefficients(horizontal ? w : h, horizontal ? outW : outH);
  const out = new Uint8Array(outW * outH * ch);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      const first = c.bounds[o * 2]!;
      const count = c.bounds[o * 2 + 1]!;
      const k = o * c.ksize;
      for (let b = 0; b < ch; b++) {
        let ss = half;
        for (let i = 0; i < count; i++) {
          const sx = horizontal ? first + i : x;
          const sy = horizontal ? y : first + i;
          ss += src[(sy * w + sx) * ch + b]! * c.kernel[k + i]!;
        }
        out[(y * outW + x) * ch + b] = clip8(ss);
      }
    }
  }
  return out;
}

/** Resizes interleaved uint8 pixels (`ch` channels) to outW × outH as Pillow's BICUBIC does. */
export function resizeBicubicPil(src: Uint8Array, w: number, h: number, ch: number, outW: number, outH: number): Uint8Array {
  let data = src;
  let cw = w;
  // Pillow skips a pass whose size does not change (no resampling at all for an equal size).
  if (outW !== w) {
    data = pass(data, cw, h, ch, outW, h, true);
    cw = outW;
  }
  if (outH !== h) data = pass(data, cw, h, ch, cw, outH, false);
  return data === src ? src.slice() : data;
}
