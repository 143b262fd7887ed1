// Tensor kernels of the k-diffusion-style schedulers (Euler, Euler ancestral, LMS, Heun, KDPM2),
// float32 as torch computes them (Math.fround after each op).
import type { Latents } from '../../tensor.ts';

const f = Math.fround;

/** sample / (sigma² + 1) ** 0.5 (scale_model_input), float32 as torch computes it. */
export function scaleBySigma(sample: Latents, sigma: number): Latents {
  const d = f(Math.sqrt(f(f(sigma * sigma) + 1)));
  const src = sample.data, n = src.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = src[i]! / d;
  return { data: out, dims: sample.dims };
}

/** original + noise * sigma (add_noise). */
export function addNoiseWithSigma(original: Latents, noise: Latents, sigma: number): Latents {
  const a = original.data, b = noise.data, n = a.length;
  if (b.length !== n) throw new Error(`addNoise: ${n} samples but ${b.length} noise values`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i]! + f(b[i]! * sigma);
  return { data: out, dims: original.dims };
}

/**
 * pred_original_sample for a sigma-parameterised model output (k-diffusion's c_skip/c_out):
 * epsilon: x - σ·ε; v_prediction: v·(-σ/√(σ²+1)) + x/(σ²+1); sample: the output itself.
 * `sigmaEps` is the σ multiplying ε (Euler's sigma_hat); v_prediction always uses `sigma`.
 */
export function predictOriginal(
  type: string, className: string, modelOutput: Float32Array, sample: Float32Array, sigma: number, sigmaEps = sigma,
): Float32Array {
  const n = sample.length;
  const out = new Float32Array(n);
  if (type === 'epsilon') {
    for (let i = 0; i < n; i++) out[i] = sample[i]! - f(sigmaEps * modelOutput[i]!);
  } else if (type === 'v_prediction') {
    const s2p1 = f(f(sigma * sigma) + 1);
    const cOut = f(-sigma / f(Math.sqrt(s2p1)));
    for (let i = 0; i < n; i++) out[i] = f(modelOutput[i]! * cOut) + f(sample[i]! / s2p1);
  } else if (type === 'sample') {
    out.set(modelOutput);
  } else {
    throw new Error(`prediction_type given as ${type} must be one of epsilon, or v_prediction (${className})`);
  }
  return out;
}

/** The ODE derivative (x - x0) / σ, written into `out`. */
export function derivativeOf(sample: Float32Array, x0: Float32Array, sigma: number, out = new Float32Array(sample.length)): Float32Array {
  for (let i = 0; i < sample.length; i++) out[i] = f(sample[i]! - x0[i]!) / sigma;
  return out;
}

/** x + d * dt (an Euler step), into a new array. */
export function eulerUpdate(sample: Float32Array, derivative: Float32Array, dt: number): Float32Array {
  const n = sample.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = sample[i]! + f(derivative[i]! * dt);
  return out;
}
