/** A dense float32 tensor in row-major (NCHW) order: the currency between schedulers and pipelines. */
export interface Latents {
  data: Float32Array;
  dims: readonly number[];
}

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}
