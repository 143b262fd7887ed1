/**
 * The cheap live preview: each latent pixel's 4 channels mapped linearly to RGB (a 4×3 matrix fitted
 * to the VAE, plus a bias for SDXL), at the latent resolution (1/8 of the image's). The factors are
 * the widely used published fits: SD 1.x/2.x (one VAE) and SDXL (its own VAE). They take the
 * latents the UNet works on (scaled by the VAE's scaling_factor) and give about [-1, 1].
 */
import type { RgbImage } from '../pipelines/types.ts';

export interface LatentRgbFactors {
  /** [channel][r, g, b] */
  factors: readonly (readonly [number, number, number])[];
  bias: readonly [number, number, number];
}

export const SD_LATENT_RGB: LatentRgbFactors = {
  factors: [[0.298, 0.207, 0.208], [0.187, 0.286, 0.173], [-0.158, 0.189, 0.264], [-0.184, -0.271, -0.473]],
  bias: [0, 0, 0],
};

export const SDXL_LATENT_RGB: LatentRgbFactors = {
  factors: [[0.3651, 0.4232, 0.4341], [-0.2533, -0.0042, 0.1068], [0.1076, 0.1111, -0.0362], [-0.3165, -0.2492, -0.2188]],
  bias: [0.1084, -0.0175, -0.0011],
};

const toByte = (v: number): number => {
  const x = Math.round(((v + 1) / 2) * 255);
  return x < 0 ? 0 : x > 255 ? 255 : x;
};

/** One image's latents [c, h, w] (c = factors.length) → an h × w RGB image. */
export function latentsToRgb(latents: Float32Array, h: number, w: number, table: LatentRgbFactors): RgbImage {
  const hw = h * w;
  const out = new Uint8Array(hw * 3);
  const f = table.factors;
  for (let i = 0; i < hw; i++) {
    for (let k = 0; k < 3; k++) {
      let v = table.bias[k]!;
      for (let ch = 0; ch < f.length; ch++) v += latents[ch * hw + i]! * f[ch]![k]!;
      out[i * 3 + k] = toByte(v);
    }
  }
  return { data: out, width: w, height: h };
}
