// PNDMScheduler (diffusers 0.27.2): pseudo numerical methods. Runge-Kutta warm-up (PRK, 12 model
// calls over the first 3 intervals) then linear multistep (PLMS); with skip_prk_steps, PLMS alone
// with a 2-call warm-up on the first interval (what Stable Diffusion configs use).
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput } from './types.ts';
import { AlphaSchedulerBase } from './common/alpha-base.ts';
import { TRAINING_DEFAULTS, withDefaults } from './common/config-defaults.ts';
import { discreteTimesteps } from './common/timestep-spacing.ts';
import { axpby, linearCombination } from './common/tensor-ops.ts';

export const PNDM_DEFAULTS = {
  ...TRAINING_DEFAULTS,
  skip_prk_steps: false,
  set_alpha_to_one: false,
  timestep_spacing: 'leading',
} as const;

const PNDM_ORDER = 4;

export class PNDMScheduler extends AlphaSchedulerBase implements Scheduler {
  private prkTimesteps = new Float64Array(0);
  private counter = 0;
  /** Past model outputs (eps), newest last, at most 4 kept. */
  private ets: Float32Array[] = [];
  private curSample: Float32Array | null = null;
  /** PRK: running weighted sum of the 4 model outputs of one RK step. */
  private curModelOutput: Float32Array | null = null;

  constructor(config: Partial<SchedulerConfig>) {
    const c = withDefaults(PNDM_DEFAULTS, config);
    const p = c.prediction_type;
    if (p !== 'epsilon' && p !== 'v_prediction') throw new Error(`PNDMScheduler: prediction_type "${String(p)}" must be epsilon or v_prediction`);
    super('PNDMScheduler', c);
  }

  override setTimesteps(numInferenceSteps: number): void {
    this.numInferenceSteps = numInferenceSteps;
    const T = this.config.num_train_timesteps;
    const asc = discreteTimesteps(this.config, numInferenceSteps).reverse(); // diffusers' _timesteps, ascending
    const n = asc.length;
    let prk: number[] = [];
    let plms: number[];
    if (this.config.skip_prk_steps) {
      // [_timesteps[:-1], _timesteps[-2:-1], _timesteps[-1:]] reversed: the first interval is run
      // twice (numpy slices clamp, so a 1-step schedule is just [t]).
      plms = [...asc.subarray(0, n - 1), ...asc.subarray(Math.max(0, n - 2), n - 1), asc[n - 1]!].reverse();
    } else {
      const half = Math.floor(Math.floor(T / numInferenceSteps) / 2);
      const last = Array.from(asc.subarray(n - PNDM_ORDER));
      const pairs = last.flatMap((t) => [t, t + half]); // repeat(2) + tile([0, half])
      const rep = pairs.slice(0, -1).flatMap((t) => [t, t]).slice(1, -1);
      prk = rep.reverse();
      plms = Array.from(asc.subarray(0, Math.max(0, n - 3))).reverse(); // _timesteps[:-3]
    }
    this.prkTimesteps = Float64Array.from(prk);
    this.timesteps = Float64Array.from([...prk, ...plms]);
    this.ets = [];
    this.counter = 0;
    this.curSample = null;
    this.curModelOutput = null;
  }

  step(modelOutput: Latents, timestep: number, sample: Latents): SchedulerStepOutput {
    this.requireTimesteps();
    const prev = this.counter < this.prkTimesteps.length && !this.config.skip_prk_steps
      ? this.stepPrk(modelOutput.data, Math.round(timestep), sample.data)
      : this.stepPlms(modelOutput.data, Math.round(timestep), sample.data);
    this.counter++;
    return { prevSample: { data: prev, dims: sample.dims } };
  }

  private stepPrk(m: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    const diffToPrev = this.counter % 2 ? 0 : Math.floor(Math.floor(this.config.num_train_timesteps / this.numInferenceSteps!) / 2);
    const prevT = timestep - diffToPrev;
    const t = this.prkTimesteps[Math.floor(this.counter / 4) * 4]!;
    let out = m;
    switch (this.counter % 4) {
      case 0:
        this.curModelOutput = linearCombination([1 / 6], [m]);
        this.ets.push(m.slice()); // copies: the caller may reuse its buffers
        this.curSample = sample.slice();
        break;
      case 1:
      case 2:
        this.curModelOutput = axpby(1, this.curModelOutput!, 1 / 3, m);
        break;
      case 3:
        out = axpby(1, this.curModelOutput!, 1 / 6, m);
        this.curModelOutput = null;
        break;
    }
    return this.prevSample(this.curSample ?? sample, t, prevT, out);
  }

  private stepPlms(m: Float32Array, timestep: number, sample: Float32Array): Float32Array {
    if (!this.config.skip_prk_steps && this.ets.length < 3) {
      throw new Error('PNDMScheduler: PLMS steps need the 12 PRK warm-up steps first');
    }
    const ratio = Math.floor(this.config.num_train_timesteps / this.numInferenceSteps!);
    let t = timestep;
    let prevT = timestep - ratio;
    if (this.counter !== 1) {
      this.ets = this.ets.slice(-3);
      this.ets.push(m.slice());
    } else {
      // Second call of the warm-up: same interval again, from the first call's sample.
      prevT = timestep;
      t = timestep + ratio;
    }
    const e = this.ets, k = e.length;
    let out: Float32Array;
    let x = sample;
    if (k === 1 && this.counter === 0) {
      out = m;
      this.curSample = sample.slice();
    } else if (k === 1 && this.counter === 1) {
      out = axpby(0.5, m, 0.5, e[0]!);
      x = this.curSample!;
      this.curSample = null;
    } else if (k === 2) {
      out = axpby(1.5, e[1]!, -0.5, e[0]!);
    } else if (k === 3) {
      out = linearCombination([23 / 12, -16 / 12, 5 / 12], [e[2]!, e[1]!, e[0]!]);
    } else {
      out = linearCombination([55 / 24, -59 / 24, 37 / 24, -9 / 24], [e[3]!, e[2]!, e[1]!, e[0]!]);
    }
    return this.prevSample(x, t, prevT, out);
  }

  /** Formula (9) of the PNDM paper: x_prev from x_t and eps. */
  private prevSample(sample: Float32Array, t: number, prevT: number, modelOutput: Float32Array): Float32Array {
    const aT = this.alphasCumprod[t]!;
    const aPrev = this.alphaProdPrev(prevT);
    const bT = 1 - aT, bPrev = 1 - aPrev;
    const eps = this.config.prediction_type === 'v_prediction' ? axpby(Math.sqrt(aT), modelOutput, Math.sqrt(bT), sample) : modelOutput;
    const sampleCoeff = Math.sqrt(aPrev / aT);
    const denom = aT * Math.sqrt(bPrev) + Math.sqrt(aT * bT * aPrev);
    return axpby(sampleCoeff, sample, -(aPrev - aT) / denom, eps);
  }
}
