/**
 * What a scheduler or pipeline needs from a random source: torch-compatible draws.
 * Implemented by TorchGenerator (random/torch-generator.ts).
 */
export interface NoiseGenerator {
  /** torch.randn(shape, generator=this, dtype=float32) */
  randn(shape: readonly number[]): Float32Array;
  /** torch.rand(shape, generator=this, dtype=float32) */
  rand(shape: readonly number[]): Float32Array;
}

/**
 * diffusers' `randn_tensor(shape, generator)`: one generator draws the whole shape; a list of
 * generators (one per batch row) draws shape [1, ...rest] from each generator in turn.
 */
export function randnTensor(shape: readonly number[], generator: NoiseGenerator | readonly NoiseGenerator[]): Float32Array {
  if (!Array.isArray(generator)) return (generator as NoiseGenerator).randn(shape);
  const gens = generator as readonly NoiseGenerator[];
  if (gens.length === 1) return gens[0]!.randn(shape);
  if (shape[0] !== gens.length) throw new Error(`randnTensor: batch ${shape[0]} but ${gens.length} generators`);
  const row = [1, ...shape.slice(1)];
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const rowSize = out.length / gens.length;
  gens.forEach((g, i) => out.set(g.randn(row), i * rowSize));
  return out;
}
