/**
 * `torch.Generator("cpu").manual_seed(seed)` followed by `torch.randn` / `torch.rand` in float32,
 * value for value (PyTorch 1.13 CPU). Three sampling paths, as ATen picks them:
 * - rand: one 32-bit draw per element, its low 24 bits / 2^24;
 * - randn of ≥ 16 elements (normal_fill): all elements drawn as uniforms first, Box–Muller in
 *   blocks of 16; when the size is not a multiple of 16 the last 16 elements are drawn again
 *   and transformed again;
 * - randn of < 16 elements: one double-precision normal per element (53-bit uniforms from two
 *   draws), whose Box–Muller twin (the sine sample) is cached in the generator and returned by
 *   the next such draw. That cache survives across calls, so draw order matters.
 */
import type { NoiseGenerator } from './noise-generator.ts';
import { Mt19937 } from './mt19937.ts';
import { normalFill16Avx2, normalFill16Default, type NormalKernel } from './normal-fill.ts';

export interface TorchGeneratorOptions {
  /** Which ATen CPU kernel to imitate for randn of ≥ 16 elements; 'avx2' is what x86-64 machines run. */
  kernel?: NormalKernel;
}

const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_32 = 2 ** 32;

export class TorchGenerator implements NoiseGenerator {
  readonly seed: bigint;
  readonly kernel: NormalKernel;
  private readonly engine: Mt19937;
  /** The cached second Box–Muller sample of the double normal path (null when none). */
  private nextDoubleNormal: number | null = null;

  constructor(seed: number | bigint, opts: TorchGeneratorOptions = {}) {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new RangeError(`TorchGenerator: seed must be a safe integer, got ${seed}`);
    }
    this.seed = BigInt(seed);
    this.kernel = opts.kernel ?? 'avx2';
    if (this.kernel !== 'avx2' && this.kernel !== 'default') {
      throw new RangeError(`TorchGenerator: unknown kernel ${String(this.kernel)}`);
    }
    // manual_seed takes a uint64 (negative seeds wrap); mt19937 keeps its low 32 bits.
    this.engine = new Mt19937(Number(BigInt.asUintN(32, this.seed)));
  }

  rand(shape: readonly number[]): Float32Array {
    const out = new Float32Array(elementCount(shape));
    for (let i = 0; i < out.length; i++) out[i] = this.uniformFloat();
    return out;
  }

  randn(shape: readonly number[]): Float32Array {
    const n = elementCount(shape);
    const out = new Float32Array(n);
    if (n < 16) {
      for (let i = 0; i < n; i++) out[i] = this.normalDouble();
      return out;
    }
    const fill16 = this.kernel === 'avx2' ? normalFill16Avx2 : normalFill16Default;
    for (let i = 0; i < n; i++) out[i] = this.uniformFloat();
    for (let i = 0; i + 16 <= n; i += 16) fill16(out, i);
    if (n % 16 !== 0) {
      for (let i = n - 16; i < n; i++) out[i] = this.uniformFloat();
      fill16(out, n - 16);
    }
    return out;
  }

  /** uniform_real_distribution<float>(0, 1): 24 random bits. */
  private uniformFloat(): number {
    return (this.engine.nextUint32() & 0xffffff) * TWO_POW_M24;
  }

  /** uniform_real_distribution<double>(0, 1): the low 53 bits of (first << 32 | second). */
  private uniformDouble(): number {
    const hi = this.engine.nextUint32() & 0x1fffff;
    const lo = this.engine.nextUint32();
    return (hi * TWO_POW_32 + lo) * TWO_POW_M53;
  }

  /** normal_distribution<double>(0, 1) with the generator-held cached sample, cast to float32. */
  private normalDouble(): number {
    const cached = this.nextDoubleNormal;
    if (cached !== null) {
      this.nextDoubleNormal = null;
      return cached;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const radius = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.nextDoubleNormal = radius * Math.sin(theta);
    return radius * Math.cos(theta);
  }
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`TorchGenerator: bad shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}
