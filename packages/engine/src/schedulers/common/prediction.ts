// Conversions of the model output to x0 (predicted original sample) and to epsilon, written with
// the sample's scale alpha and noise scale sigma: x_t = alpha * x0 + sigma * eps.
// (DDIM-style schedulers pass alpha = sqrt(alpha_prod_t), sigma = sqrt(1 - alpha_prod_t).)
import type { PredictionType } from './config-defaults.ts';
import { axpby } from './tensor-ops.ts';

export function predictX0(type: PredictionType, modelOutput: Float32Array, sample: Float32Array, alpha: number, sigma: number): Float32Array {
  switch (type) {
    case 'epsilon': return axpby(1 / alpha, sample, -sigma / alpha, modelOutput);
    case 'v_prediction': return axpby(alpha, sample, -sigma, modelOutput);
    case 'sample': return Float32Array.from(modelOutput);
  }
}

export function predictEpsilon(type: PredictionType, modelOutput: Float32Array, sample: Float32Array, alpha: number, sigma: number): Float32Array {
  switch (type) {
    case 'epsilon': return Float32Array.from(modelOutput);
    case 'v_prediction': return axpby(alpha, modelOutput, sigma, sample);
    case 'sample': return axpby(1 / sigma, sample, -alpha / sigma, modelOutput);
  }
}
