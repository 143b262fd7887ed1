/** Small float32 tensor operations of the denoising loop, each one pass over typed arrays. */

const f = Math.fround;

/**
 * diffusers' DiagonalGaussianDistribution.sample × scaling: (mean + exp(0.5·clamp(logvar,-30,20))·noise) × s.
 * `params` holds one image's parameters (shared by every row) or one per row.
 */
export function sampleLatentDist(params: Float32Array, batch: number, channels: number, hw: number,
  noise: Float32Array, scaling: number, out: Float32Array = new Float32Array(batch * channels * hw)): Float32Array {
  const per = channels * hw;
  const shared = params.length === 2 * per;
  for (let b = 0; b < batch; b++) {
    const mean = shared ? 0 : b * 2 * per;
    const logvar = mean + per;
    const o = b * per;
    for (let i = 0; i < per; i++) {
      let lv = params[logvar + i]!;
      lv = lv < -30 ? -30 : lv > 20 ? 20 : lv;
      const std = f(Math.exp(f(0.5 * lv)));
      out[o + i] = f(f(params[mean + i]! + f(std * noise[o + i]!)) * scaling);
    }
  }
  return out;
}

/** An encoder that already sampled: only the scaling, per row or shared (the draw still happened upstream). */
export function scaleRows(src: Float32Array, batch: number, per: number, s: number, out: Float32Array = new Float32Array(batch * per)): Float32Array {
  const shared = src.length === per;
  for (let b = 0; b < batch; b++) {
    const o = shared ? 0 : b * per;
    for (let i = 0; i < per; i++) out[b * per + i] = f(src[o + i]! * s);
  }
  return out;
}

/** x × s in float32 (init_noise_sigma, 1/scaling_factor as a division). */
export function scale(src: Float32Array, s: number, out: Float32Array = new Float32Array(src.length)): Float32Array {
  for (let i = 0; i < src.length; i++) out[i] = f(src[i]! * s);
  return out;
}

export function divide(src: Float32Array, d: number, out: Float32Array = new Float32Array(src.length)): Float32Array {
  const df = f(d);
  for (let i = 0; i < src.length; i++) out[i] = f(src[i]! / df);
  return out;
}

/** Classifier-free guidance over [uncond; cond] halves: u + g·(c − u). */
export function applyGuidance(pred: Float32Array, g: number, out: Float32Array): Float32Array {
  const half = out.length;
  for (let i = 0; i < half; i++) {
    const u = pred[i]!;
    out[i] = f(u + f(g * f(pred[half + i]! - u)));
  }
  return out;
}

/** Repeats `src` `times` times into `out` (CFG doubling, batch repeat). */
export function repeatInto(src: Float32Array, times: number, out: Float32Array, offset = 0): void {
  for (let k = 0; k < times; k++) out.set(src, offset + k * src.length);
}

/**
 * Writes `src` (batch × srcChannels × hw) into the leading channels of each of `rows` rows of a
 * rows × dstChannels × hw UNet input, row r taking src row r mod batch (CFG doubling); the other
 * channels (mask, masked-image latents) are left as filled once per job.
 */
export function writeLeadingChannels(src: Float32Array, batch: number, rows: number, srcChannels: number, dstChannels: number, hw: number, dst: Float32Array): void {
  const sPer = srcChannels * hw;
  const dPer = dstChannels * hw;
  for (let r = 0; r < rows; r++) {
    const b = r % batch;
    dst.set(src.subarray(b * sPer, (b + 1) * sPer), r * dPer);
  }
}

/** 4-channel inpainting blend: keep `known` where the mask is 0, the new latents where it is 1. */
export function blendMasked(latents: Float32Array, known: Float32Array, mask: Float32Array, batch: number, channels: number, out: Float32Array): Float32Array {
  const hw = mask.length;
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const o = (b * channels + c) * hw;
      for (let i = 0; i < hw; i++) {
        const m = mask[i]!;
        out[o + i] = f(f((1 - m) * known[o + i]!) + f(m * latents[o + i]!));
      }
    }
  }
  return out;
}
