// DEISMultistepScheduler (diffusers 0.27.2): diffusion exponential integrator sampler, log-rho
// multistep (orders 1-3), working on the epsilon re-derived from the x0 prediction.
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput } from './types.ts';
import { BASE_DEFAULTS, withDefaults } from './common/config-defaults.ts';
import { multistepTimesteps } from './common/timestep-spacing.ts';
import { VpSigmaBase } from './common/vp-base.ts';
import { axpby, linearCombination } from './common/tensor-ops.ts';

export const DEIS_DEFAULTS = {
  ...BASE_DEFAULTS,
  solver_order: 2,
  algorithm_type: 'deis',
  solver_type: 'logrho',
  lower_order_final: true,
  use_karras_sigmas: false,
  timestep_spacing: 'linspace',
} as const;

export class DEISMultistepScheduler extends VpSigmaBase implements Scheduler {
  private readonly solverOrder: number;
  private lowerOrderNums = 0;

  constructor(config: Partial<SchedulerConfig>) {
    const c: Record<string, unknown> = withDefaults(DEIS_DEFAULTS, config);
    // diffusers rewrites configs carried over from DPM-Solver / UniPC.
    if (c.algorithm_type === 'dpmsolver' || c.algorithm_type === 'dpmsolver++') c.algorithm_type = 'deis';
    if (['midpoint', 'heun', 'bh1', 'bh2'].includes(String(c.solver_type))) c.solver_type = 'logrho';
    super('DEISMultistepScheduler', c as SchedulerConfig);
    if (c.algorithm_type !== 'deis') throw new Error(`DEISMultistepScheduler: algorithm_type "${String(c.algorithm_type)}" is not supported`);
    if (c.solver_type !== 'logrho') throw new Error(`DEISMultistepScheduler: solver_type "${String(c.solver_type)}" is not supported`);
    this.solverOrder = Number(c.solver_order);
    if (!(this.solverOrder >= 1 && this.solverOrder <= 3)) throw new Error('DEISMultistepScheduler: solver_order must be 1, 2 or 3');
  }

  override setTimesteps(numInferenceSteps: number): void {
    // With Karras sigmas the last one is repeated, else the schedule ends on sigma_min.
    const final = this.config.use_karras_sigmas ? 'repeat_last' : 'sigma_min';
    this.applySchedule(multistepTimesteps(this.config, numInferenceSteps), final, this.solverOrder);
    this.lowerOrderNums = 0;
  }

  private convertModelOutput(m: Float32Array, sample: Float32Array, dims: readonly number[], i: number): Float32Array {
    const x0 = this.dataPrediction(m, sample, dims, i);
    const { alpha, sigma } = this.at(i);
    return axpby(1 / sigma, sample, -alpha / sigma, x0);
  }

  step(modelOutput: Latents, timestep: number, sample: Latents): SchedulerStepOutput {
    const i = this.currentStepIndex(timestep);
    const n = this.timesteps.length;
    const lowerOrderFinal = i === n - 1 && !!this.config.lower_order_final && n < 15;
    const lowerOrderSecond = i === n - 2 && !!this.config.lower_order_final && n < 15;
    const converted = this.convertModelOutput(modelOutput.data, sample.data, sample.dims, i);
    this.modelOutputs.shift();
    this.modelOutputs.push(converted);
    let prev: Float32Array;
    if (this.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      prev = this.firstOrderUpdate(false, converted, sample.data, i);
    } else if (this.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
      prev = this.secondOrder(sample.data, i);
    } else {
      prev = this.thirdOrder(sample.data, i);
    }
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.index.step = i + 1;
    return { prevSample: { data: prev, dims: sample.dims } };
  }

  /** rho = sigma_t / alpha_t at schedule index j. */
  private rho(j: number): { rho: number; alpha: number } {
    const { alpha, sigma } = this.at(j);
    return { rho: sigma / alpha, alpha };
  }

  private secondOrder(x: Float32Array, i: number): Float32Array {
    const k = this.modelOutputs.length;
    const m0 = this.modelOutputs[k - 1]!, m1 = this.modelOutputs[k - 2]!;
    const t = this.rho(i + 1), s0 = this.rho(i), s1 = this.rho(i - 1);
    // Integral of the Lagrange basis polynomial in log-rho.
    const ind = (tt: number, b: number, c: number) => (tt * (-Math.log(c) + Math.log(tt) - 1)) / (Math.log(b) - Math.log(c));
    const coef1 = ind(t.rho, s0.rho, s1.rho) - ind(s0.rho, s0.rho, s1.rho);
    const coef2 = ind(t.rho, s1.rho, s0.rho) - ind(s0.rho, s1.rho, s0.rho);
    return linearCombination([t.alpha / s0.alpha, t.alpha * coef1, t.alpha * coef2], [x, m0, m1]);
  }

  private thirdOrder(x: Float32Array, i: number): Float32Array {
    const k = this.modelOutputs.length;
    const m0 = this.modelOutputs[k - 1]!, m1 = this.modelOutputs[k - 2]!, m2 = this.modelOutputs[k - 3]!;
    const t = this.rho(i + 1), s0 = this.rho(i), s1 = this.rho(i - 1), s2 = this.rho(i - 2);
    const L = Math.log;
    const ind = (tt: number, b: number, c: number, d: number) => {
      const num = tt * (L(c) * (L(d) - L(tt) + 1) - L(d) * L(tt) + L(d) + L(tt) ** 2 - 2 * L(tt) + 2);
      return num / ((L(b) - L(c)) * (L(b) - L(d)));
    };
    const coef1 = ind(t.rho, s0.rho, s1.rho, s2.rho) - ind(s0.rho, s0.rho, s1.rho, s2.rho);
    const coef2 = ind(t.rho, s1.rho, s2.rho, s0.rho) - ind(s0.rho, s1.rho, s2.rho, s0.rho);
    const coef3 = ind(t.rho, s2.rho, s0.rho, s1.rho) - ind(s0.rho, s2.rho, s0.rho, s1.rho);
    return linearCombination([t.alpha / s0.alpha, t.alpha * coef1, t.alpha * coef2, t.alpha * coef3], [x, m0, m1, m2]);
  }
}
