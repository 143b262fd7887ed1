// Gaussian noise on a frame before it is re-diffused (Deforum's `noise` schedule): keeps detail
// from washing out over many img2img passes. `amount` is the standard deviation as a fraction of
// the full 0…255 range; the stream is seeded, so a job with a fixed seed reproduces its frames.
import type { Frame } from './frame.ts';

/** mulberry32: small, fast, good enough for image noise (not for the diffusion noise itself). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function addNoise(frame: Frame, amount: number, seed: number): Frame {
  if (amount <= 0) return { ...frame, data: frame.data.slice() };
  const rand = mulberry32(seed ^ 0x5eed);
  const sigma = amount * 255;
  const out = new Uint8Array(frame.data.length);
  for (let i = 0; i < out.length; i += 2) {
    // Box–Muller: two normal samples per two uniforms.
    const u1 = Math.max(rand(), 1e-12);
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1)) * sigma;
    out[i] = Math.min(255, Math.max(0, Math.round(frame.data[i]! + r * Math.cos(2 * Math.PI * u2))));
    if (i + 1 < out.length) out[i + 1] = Math.min(255, Math.max(0, Math.round(frame.data[i + 1]! + r * Math.sin(2 * Math.PI * u2))));
  }
  return { width: frame.width, height: frame.height, data: out };
}
