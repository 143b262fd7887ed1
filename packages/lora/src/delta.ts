/**
 * The weight change one LoRA makes to one module, as peft's get_delta_weight computes it:
 * delta = (up @ down) · (alpha / rank · scale), float32, [out, in·kh·kw] row-major.
 */
import type { LoraTarget } from './lora-file.ts';

export function loraDelta(t: LoraTarget, scale: number): Float32Array {
  const out = t.up.shape[0]!;
  const rank = t.rank;
  const inFlat = t.down.shape.slice(1).reduce((a, b) => a * b, 1);
  if (t.down.data.length !== rank * inFlat || t.up.data.length !== out * rank) {
    throw new Error(`${t.label}: the LoRA was read shapes-only; read the whole file to merge it`);
  }
  const up = t.up.data;
  const down = t.down.data;
  const factor = Math.fround((t.alpha / rank) * scale);
  const delta = new Float32Array(out * inFlat);
  const row = new Float64Array(inFlat);
  for (let o = 0; o < out; o++) {
    row.fill(0);
    for (let r = 0; r < rank; r++) {
      const u = up[o * rank + r]!;
      if (u === 0) continue;
      const base = r * inFlat;
      for (let i = 0; i < inFlat; i++) row[i]! += u * down[base + i]!;
    }
    // Round the float32 matmul result first, then one float32 multiply, as torch does.
    for (let i = 0; i < inFlat; i++) delta[o * inFlat + i] = Math.fround(row[i]!) * factor;
  }
  return delta;
}
