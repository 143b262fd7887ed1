/**
 * Deterministic normal deviates for random weights: mulberry32 uniforms through Box-Muller (both
 * outputs used). Not torch's generator: the export only needs the same weights on every run.
 */
export class Normal {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  private uniform(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296; // (0, 1): log() stays finite
  }

  /** Fills `out` with N(0, std²) values. */
  fill(out: Float32Array, std: number): void {
    for (let i = 0; i < out.length; i += 2) {
      const r = std * Math.sqrt(-2 * Math.log(this.uniform()));
      const a = 2 * Math.PI * this.uniform();
      out[i] = r * Math.cos(a);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(a);
    }
  }
}
