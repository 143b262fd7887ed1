// DPMSolverMultistepScheduler (diffusers 0.27.2): DPM-Solver / DPM-Solver++ (orders 1-3), and their
// SDE variants, which draw noise at every step. "DPM++ 2M" = dpmsolver++ with solver_order 2.
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput, StepOptions } from './types.ts';
import { randnTensor } from '../random/noise-generator.ts';
import { BASE_DEFAULTS, predictionTypeOf, rejectRescaleBetasZeroSnr, withDefaults } from './common/config-defaults.ts';
import { multistepTimesteps } from './common/timestep-spacing.ts';
import { clippedIndex } from './common/vp-sigmas.ts';
import { VpSigmaBase } from './common/vp-base.ts';
import { thresholdX0InPlace } from './common/threshold.ts';
import { predictEpsilon } from './common/prediction.ts';
import { axpby, linearCombination } from './common/tensor-ops.ts';

export const DPM_MULTISTEP_DEFAULTS = {
  ...BASE_DEFAULTS,
  solver_order: 2,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: true,
  euler_at_final: false,
  use_karras_sigmas: false,
  use_lu_lambdas: false,
  final_sigmas_type: 'zero',
  lambda_min_clipped: -Infinity,
  variance_type: null,
  timestep_spacing: 'linspace',
  rescale_betas_zero_snr: false,
} as const;

type Algorithm = 'dpmsolver' | 'dpmsolver++' | 'sde-dpmsolver' | 'sde-dpmsolver++';

export class DPMSolverMultistepScheduler extends VpSigmaBase implements Scheduler {
  private readonly algorithm: Algorithm;
  private readonly solverOrder: number;
  private lowerOrderNums = 0;

  constructor(config: Partial<SchedulerConfig>) {
    const c = withDefaults(DPM_MULTISTEP_DEFAULTS, config);
    // diffusers rewrites these for configs carried over from DEIS / UniPC.
    if (c.algorithm_type === 'deis') c.algorithm_type = 'dpmsolver++';
    if (c.solver_type === 'logrho' || c.solver_type === 'bh1' || c.solver_type === 'bh2') c.solver_type = 'midpoint';
    super('DPMSolverMultistepScheduler', c);
    const alg = c.algorithm_type as string;
    if (alg !== 'dpmsolver' && alg !== 'dpmsolver++' && alg !== 'sde-dpmsolver' && alg !== 'sde-dpmsolver++') {
      throw new Error(`DPMSolverMultistepScheduler: algorithm_type "${alg}" is not supported`);
    }
    if (c.solver_type !== 'midpoint' && c.solver_type !== 'heun') throw new Error(`DPMSolverMultistepScheduler: solver_type "${String(c.solver_type)}" is not supported`);
    if (alg !== 'dpmsolver++' && alg !== 'sde-dpmsolver++' && c.final_sigmas_type === 'zero') {
      throw new Error(`DPMSolverMultistepScheduler: final_sigmas_type "zero" is not supported for algorithm_type ${alg}; use "sigma_min"`);
    }
    if (c.use_lu_lambdas) throw new Error('DPMSolverMultistepScheduler: use_lu_lambdas is not supported');
    rejectRescaleBetasZeroSnr(c, 'DPMSolverMultistepScheduler');
    if (c.variance_type === 'learned' || c.variance_type === 'learned_range') throw new Error('DPMSolverMultistepScheduler: learned variance is not supported');
    this.algorithm = alg;
    this.solverOrder = Number(c.solver_order);
    if (!(this.solverOrder >= 1 && this.solverOrder <= 3)) throw new Error('DPMSolverMultistepScheduler: solver_order must be 1, 2 or 3');
  }

  override setTimesteps(numInferenceSteps: number): void {
    const T = this.config.num_train_timesteps;
    const last = T - clippedIndex(this.alphasCumprod, Number(this.config.lambda_min_clipped));
    const base = multistepTimesteps(this.config, numInferenceSteps, last);
    this.applySchedule(base, this.dpmFinalSigma(), this.solverOrder);
    this.lowerOrderNums = 0;
  }

  /** dpmsolver++ works on x0 predictions, dpmsolver on epsilon. */
  private convertModelOutput(m: Float32Array, sample: Float32Array, dims: readonly number[], i: number): Float32Array {
    if (this.algorithm === 'dpmsolver++' || this.algorithm === 'sde-dpmsolver++') return this.dataPrediction(m, sample, dims, i);
    const { alpha, sigma } = this.at(i);
    const eps = predictEpsilon(predictionTypeOf(this.config, this.className), m, sample, alpha, sigma);
    if (this.config.thresholding) {
      const x0 = thresholdX0InPlace(this.config, axpby(1 / alpha, sample, -sigma / alpha, eps), dims);
      return axpby(1 / sigma, sample, -alpha / sigma, x0);
    }
    return eps;
  }

  step(modelOutput: Latents, timestep: number, sample: Latents, options: StepOptions = {}): SchedulerStepOutput {
    const i = this.currentStepIndex(timestep);
    const n = this.timesteps.length;
    const c = this.config;
    const lowerOrderFinal = i === n - 1 && (!!c.euler_at_final || (!!c.lower_order_final && n < 15) || c.final_sigmas_type === 'zero');
    const lowerOrderSecond = i === n - 2 && !!c.lower_order_final && n < 15;

    const converted = this.convertModelOutput(modelOutput.data, sample.data, sample.dims, i);
    this.modelOutputs.shift();
    this.modelOutputs.push(converted);

    let noise: Float32Array | null = null;
    if (this.algorithm === 'sde-dpmsolver' || this.algorithm === 'sde-dpmsolver++') {
      if (!options.generator) throw new Error(`DPMSolverMultistepScheduler: ${this.algorithm} needs a generator`);
      noise = randnTensor(modelOutput.dims, options.generator);
    }

    let prev: Float32Array;
    if (this.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      prev = this.firstOrder(converted, sample.data, noise, i);
    } else if (this.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
      prev = this.secondOrder(sample.data, noise, i);
    } else {
      prev = this.thirdOrder(sample.data, i);
    }
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.index.step = i + 1;
    return { prevSample: { data: prev, dims: sample.dims } };
  }

  private firstOrder(m0: Float32Array, x: Float32Array, noise: Float32Array | null, i: number): Float32Array {
    const t = this.at(i + 1), s = this.at(i);
    const h = t.lambda - s.lambda;
    switch (this.algorithm) {
      case 'dpmsolver++':
        return this.firstOrderUpdate(true, m0, x, i);
      case 'dpmsolver':
        return this.firstOrderUpdate(false, m0, x, i);
      case 'sde-dpmsolver++':
        return linearCombination(
          [(t.sigma / s.sigma) * Math.exp(-h), -t.alpha * Math.expm1(-2 * h), t.sigma * Math.sqrt(-Math.expm1(-2 * h))],
          [x, m0, noise!]);
      case 'sde-dpmsolver':
        return linearCombination(
          [t.alpha / s.alpha, -2 * t.sigma * Math.expm1(h), t.sigma * Math.sqrt(Math.expm1(2 * h))],
          [x, m0, noise!]);
    }
  }

  private secondOrder(x: Float32Array, noise: Float32Array | null, i: number): Float32Array {
    const t = this.at(i + 1), s0 = this.at(i), s1 = this.at(i - 1);
    const k = this.modelOutputs.length;
    const m0 = this.modelOutputs[k - 1]!, m1 = this.modelOutputs[k - 2]!;
    const h = t.lambda - s0.lambda, h0 = s0.lambda - s1.lambda;
    const r0 = h0 / h;
    // D0 = m0, D1 = (m0 - m1) / r0: written as coefficients on m0 and m1.
    const heun = this.config.solver_type === 'heun';
    let cx: number, c0: number, c1: number, cn = 0;
    switch (this.algorithm) {
      case 'dpmsolver++': {
        const e = Math.expm1(-h);
        cx = t.sigma / s0.sigma; c0 = -t.alpha * e;
        c1 = heun ? t.alpha * (e / h + 1) : -0.5 * t.alpha * e;
        break;
      }
      case 'dpmsolver': {
        const e = Math.expm1(h);
        cx = t.alpha / s0.alpha; c0 = -t.sigma * e;
        c1 = heun ? -t.sigma * (e / h - 1) : -0.5 * t.sigma * e;
        break;
      }
      case 'sde-dpmsolver++': {
        const e = -Math.expm1(-2 * h); // 1 - exp(-2h)
        cx = (t.sigma / s0.sigma) * Math.exp(-h); c0 = t.alpha * e;
        c1 = heun ? t.alpha * (e / (-2 * h) + 1) : 0.5 * t.alpha * e;
        cn = t.sigma * Math.sqrt(e);
        break;
      }
      case 'sde-dpmsolver': {
        const e = Math.expm1(h);
        cx = t.alpha / s0.alpha; c0 = -2 * t.sigma * e;
        c1 = heun ? -2 * t.sigma * (e / h - 1) : -t.sigma * e;
        cn = t.sigma * Math.sqrt(Math.expm1(2 * h));
        break;
      }
    }
    const d1 = 1 / r0;
    const coeffs = [cx, c0 + c1 * d1, -c1 * d1];
    const terms = [x, m0, m1];
    if (noise) { coeffs.push(cn); terms.push(noise); }
    return linearCombination(coeffs, terms);
  }

  private thirdOrder(x: Float32Array, i: number): Float32Array {
    if (this.algorithm.startsWith('sde')) throw new Error('DPMSolverMultistepScheduler: solver_order 3 is not supported for SDE variants');
    const t = this.at(i + 1), s0 = this.at(i), s1 = this.at(i - 1), s2 = this.at(i - 2);
    const k = this.modelOutputs.length;
    const m0 = this.modelOutputs[k - 1]!, m1 = this.modelOutputs[k - 2]!, m2 = this.modelOutputs[k - 3]!;
    const h = t.lambda - s0.lambda, h0 = s0.lambda - s1.lambda, h1 = s1.lambda - s2.lambda;
    const r0 = h0 / h, r1 = h1 / h;
    // D1_0 = (m0 - m1)/r0, D1_1 = (m1 - m2)/r1, D1 = D1_0 + r0/(r0+r1) (D1_0 - D1_1), D2 = (D1_0 - D1_1)/(r0+r1)
    const a10 = [1 / r0, -1 / r0, 0], a11 = [0, 1 / r1, -1 / r1];
    const diff = a10.map((v, j) => v - a11[j]!);
    const D1 = a10.map((v, j) => v + (r0 / (r0 + r1)) * diff[j]!);
    const D2 = diff.map((v) => v / (r0 + r1));
    let cx: number, c0: number, c1: number, c2: number;
    if (this.algorithm === 'dpmsolver++') {
      const e = Math.expm1(-h);
      cx = t.sigma / s0.sigma; c0 = -t.alpha * e; c1 = t.alpha * (e / h + 1); c2 = -t.alpha * ((e + h) / (h * h) - 0.5);
    } else {
      const e = Math.expm1(h);
      cx = t.alpha / s0.alpha; c0 = -t.sigma * e; c1 = -t.sigma * (e / h - 1); c2 = -t.sigma * ((e - h) / (h * h) - 0.5);
    }
    const cm = [0, 1, 2].map((j) => (j === 0 ? c0 : 0) + c1 * D1[j]! + c2 * D2[j]!);
    return linearCombination([cx, cm[0]!, cm[1]!, cm[2]!], [x, m0, m1, m2]);
  }
}
