// DPMSolverSinglestepScheduler (diffusers 0.27.2): single-step DPM-Solver(++). Steps are grouped
// by `order_list` ([1, 2, 1, 2, ...] for order 2): each group restarts from the sample held at its
// first (order-1) step, using the model outputs gathered inside the group.
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput } from './types.ts';
import { BASE_DEFAULTS, predictionTypeOf, withDefaults } from './common/config-defaults.ts';
import { multistepTimesteps } from './common/timestep-spacing.ts';
import { clippedIndex } from './common/vp-sigmas.ts';
import { VpSigmaBase } from './common/vp-base.ts';
import { predictEpsilon } from './common/prediction.ts';
import { linearCombination } from './common/tensor-ops.ts';

export const DPM_SINGLESTEP_DEFAULTS = {
  ...BASE_DEFAULTS,
  solver_order: 2,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: false,
  use_karras_sigmas: false,
  final_sigmas_type: 'zero',
  lambda_min_clipped: -Infinity,
  variance_type: null,
} as const;

/** diffusers' get_order_list: the solver order of each step. */
export function singlestepOrderList(steps: number, order: number, lowerOrderFinal: boolean): number[] {
  if (order > 3) throw new Error('DPMSolverSinglestepScheduler: order > 3 is not supported');
  const rep = (pattern: number[], times: number) => Array.from({ length: Math.max(0, times) }, () => pattern).flat();
  if (lowerOrderFinal) {
    if (order === 3) {
      if (steps % 3 === 0) return [...rep([1, 2, 3], Math.floor(steps / 3) - 1), 1, 2, 1];
      if (steps % 3 === 1) return [...rep([1, 2, 3], Math.floor(steps / 3)), 1];
      return [...rep([1, 2, 3], Math.floor(steps / 3)), 1, 2];
    }
    if (order === 2) {
      if (steps % 2 === 0) return [...rep([1, 2], steps / 2 - 1), 1, 1];
      return [...rep([1, 2], Math.floor(steps / 2)), 1];
    }
    return rep([1], steps);
  }
  if (order === 3) return rep([1, 2, 3], Math.floor(steps / 3));
  if (order === 2) return rep([1, 2], Math.floor(steps / 2));
  return rep([1], steps);
}

export class DPMSolverSinglestepScheduler extends VpSigmaBase implements Scheduler {
  private readonly algorithm: 'dpmsolver' | 'dpmsolver++';
  private readonly solverOrder: number;
  /** The sample at the start of the current group. */
  private groupSample: Float32Array | null = null;
  private orderList: number[] = [];

  constructor(config: Partial<SchedulerConfig>) {
    const c: Record<string, unknown> = withDefaults(DPM_SINGLESTEP_DEFAULTS, config);
    if (c.algorithm_type === 'deis') c.algorithm_type = 'dpmsolver++';
    if (c.solver_type === 'logrho' || c.solver_type === 'bh1' || c.solver_type === 'bh2') c.solver_type = 'midpoint';
    super('DPMSolverSinglestepScheduler', c as SchedulerConfig);
    if (c.algorithm_type !== 'dpmsolver' && c.algorithm_type !== 'dpmsolver++') {
      throw new Error(`DPMSolverSinglestepScheduler: algorithm_type "${String(c.algorithm_type)}" is not supported`);
    }
    if (c.solver_type !== 'midpoint' && c.solver_type !== 'heun') throw new Error(`DPMSolverSinglestepScheduler: solver_type "${String(c.solver_type)}" is not supported`);
    if (c.algorithm_type !== 'dpmsolver++' && c.final_sigmas_type === 'zero') {
      throw new Error('DPMSolverSinglestepScheduler: final_sigmas_type "zero" needs algorithm_type dpmsolver++; use "sigma_min"');
    }
    if (c.variance_type === 'learned_range') throw new Error('DPMSolverSinglestepScheduler: learned variance is not supported');
    this.algorithm = c.algorithm_type;
    this.solverOrder = Number(c.solver_order);
  }

  override setTimesteps(numInferenceSteps: number): void {
    const c = this.config as Record<string, unknown>;
    const last = this.config.num_train_timesteps - clippedIndex(this.alphasCumprod, Number(c.lambda_min_clipped));
    // This class has no timestep_spacing: always linspace.
    const base = multistepTimesteps({ ...this.config, timestep_spacing: 'linspace' }, numInferenceSteps, last);
    const final = this.dpmFinalSigma();
    this.applySchedule(base, final, this.solverOrder);
    this.groupSample = null;
    // diffusers rewrites its config here (config_changed_by_set_timesteps): an uneven step count or a
    // zero final sigma forces lower_order_final.
    if (!c.lower_order_final && numInferenceSteps % this.solverOrder !== 0) c.lower_order_final = true;
    if (!c.lower_order_final && c.final_sigmas_type === 'zero') c.lower_order_final = true;
    this.orderList = singlestepOrderList(numInferenceSteps, this.solverOrder, !!c.lower_order_final);
    // Deviation from 0.27.2 (as later diffusers does): a higher-order last step into sigma = 0 divides
    // by an infinite log-SNR step and yields NaN (e.g. order 3, 20 steps), so end on first order.
    if (final === 'zero') this.orderList[this.orderList.length - 1] = 1;
  }

  private convertModelOutput(m: Float32Array, sample: Float32Array, dims: readonly number[], i: number): Float32Array {
    if (this.algorithm === 'dpmsolver++') return this.dataPrediction(m, sample, dims, i);
    const { alpha, sigma } = this.at(i);
    return predictEpsilon(predictionTypeOf(this.config, this.className), m, sample, alpha, sigma);
  }

  step(modelOutput: Latents, timestep: number, sample: Latents): SchedulerStepOutput {
    const i = this.currentStepIndex(timestep);
    const converted = this.convertModelOutput(modelOutput.data, sample.data, sample.dims, i);
    this.modelOutputs.shift();
    this.modelOutputs.push(converted);
    let order = this.orderList[i]!;
    while (this.modelOutputs[this.modelOutputs.length - order] === null) order--;
    if (order === 1) this.groupSample = sample.data.slice();
    const x = this.groupSample!;
    const prev = order === 1 ? this.firstOrder(converted, x, i) : order === 2 ? this.secondOrder(x, i) : this.thirdOrder(x, i);
    this.index.step = i + 1;
    return { prevSample: { data: prev, dims: sample.dims } };
  }

  private firstOrder(m0: Float32Array, x: Float32Array, i: number): Float32Array {
    return this.firstOrderUpdate(this.algorithm === 'dpmsolver++', m0, x, i);
  }

  /** From the group's sample at index i-1, through the outputs at i-1 (m1) and i (m0), to i+1. */
  private secondOrder(x: Float32Array, i: number): Float32Array {
    const t = this.at(i + 1), s0 = this.at(i), s1 = this.at(i - 1);
    const k = this.modelOutputs.length;
    const m0 = this.modelOutputs[k - 1]!, m1 = this.modelOutputs[k - 2]!;
    const h = t.lambda - s1.lambda, h0 = s0.lambda - s1.lambda;
    const r0 = h0 / h;
    const heun = this.config.solver_type === 'heun';
    let cx: number, cD0: number, cD1: number;
    if (this.algorithm === 'dpmsolver++') {
      const e = Math.expm1(-h);
      cx = t.sigma / s1.sigma; cD0 = -t.alpha * e; cD1 = heun ? t.alpha * (e / h + 1) : -0.5 * t.alpha * e;
    } else {
      const e = Math.expm1(h);
      cx = t.alpha / s1.alpha; cD0 = -t.sigma * e; cD1 = heun ? -t.sigma * (e / h - 1) : -0.5 * t.sigma * e;
    }
    // D0 = m1, D1 = (m0 - m1) / r0
    return linearCombination([cx, cD1 / r0, cD0 - cD1 / r0], [x, m0, m1]);
  }

  private thirdOrder(x: Float32Array, i: number): Float32Array {
    const t = this.at(i + 1), s0 = this.at(i), s1 = this.at(i - 1), s2 = this.at(i - 2);
    const k = this.modelOutputs.length;
    const m0 = this.modelOutputs[k - 1]!, m1 = this.modelOutputs[k - 2]!, m2 = this.modelOutputs[k - 3]!;
    const h = t.lambda - s2.lambda, h0 = s0.lambda - s2.lambda, h1 = s1.lambda - s2.lambda;
    const r0 = h0 / h, r1 = h1 / h;
    // Coefficients on [m0, m1, m2]: D0 = m2, D1_0 = (m1 - m2)/r1, D1_1 = (m0 - m2)/r0,
    // D1 = (r0 D1_0 - r1 D1_1)/(r0 - r1), D2 = 2 (D1_1 - D1_0)/(r0 - r1).
    const D0 = [0, 0, 1];
    const D10 = [0, 1 / r1, -1 / r1], D11 = [1 / r0, 0, -1 / r0];
    const D1 = D10.map((v, j) => (r0 * v - r1 * D11[j]!) / (r0 - r1));
    const D2 = D10.map((v, j) => (2 * (D11[j]! - v)) / (r0 - r1));
    const heun = this.config.solver_type === 'heun';
    let cx: number, c0: number, c1: number, c2: number;
    if (this.algorithm === 'dpmsolver++') {
      const e = Math.expm1(-h);
      cx = t.sigma / s2.sigma; c0 = -t.alpha * e; c1 = t.alpha * (e / h + 1); c2 = -t.alpha * ((e + h) / (h * h) - 0.5);
    } else {
      const e = Math.expm1(h);
      cx = t.alpha / s2.alpha; c0 = -t.sigma * e; c1 = -t.sigma * (e / h - 1); c2 = -t.sigma * ((e - h) / (h * h) - 0.5);
    }
    // midpoint uses D1_1 alone; heun uses D1 and D2.
    const cm = [0, 1, 2].map((j) => c0 * D0[j]! + (heun ? c1 * D1[j]! + c2 * D2[j]! : c1 * D11[j]!));
    return linearCombination([cx, cm[0]!, cm[1]!, cm[2]!], [x, m0, m1, m2]);
  }
}
