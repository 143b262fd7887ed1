// Prompt interpolation (animation jobs): the conditioning of a frame between two prompt keyframes is
// the linear blend of both prompts' text embeddings (and SDXL's pooled embeddings and time ids).
import type { TextConditioning } from './text-conditioning.ts';

function lerp(a: Float32Array, b: Float32Array, w: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + (b[i]! - a[i]!) * w;
  return out;
}

/** (1 − w)·a + w·b. Both must have the same token count (same number of 75-token chunks). */
export function blendConditioning(a: TextConditioning, b: TextConditioning, w: number): TextConditioning {
  if (a.tokens !== b.tokens || a.hidden !== b.hidden) {
    throw new RangeError(`prompt interpolation needs prompts of the same length in 75-token chunks (${a.tokens} vs ${b.tokens} tokens)`);
  }
  const out: TextConditioning = {
    tokens: a.tokens, hidden: a.hidden, cond: lerp(a.cond, b.cond, w),
    uncond: a.uncond && b.uncond ? lerp(a.uncond, b.uncond, w) : a.uncond,
  };
  if (a.added && b.added) {
    out.added = {
      ...a.added,
      cond: { textEmbeds: lerp(a.added.cond.textEmbeds, b.added.cond.textEmbeds, w), timeIds: a.added.cond.timeIds },
      uncond: a.added.uncond && b.added.uncond
        ? { textEmbeds: lerp(a.added.uncond.textEmbeds, b.added.uncond.textEmbeds, w), timeIds: a.added.uncond.timeIds }
        : a.added.uncond,
    };
  }
  return out;
}
