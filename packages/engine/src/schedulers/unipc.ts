// UniPCMultistepScheduler (diffusers 0.27.2): UniPC predictor (UniP) with the UniC corrector applied
// at the start of each following step, B(h) = bh1 or bh2, x0 (predict_x0) or noise formulation.
import type { Latents } from '../tensor.ts';
import type { SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput } from './types.ts';
import { BASE_DEFAULTS, predictionTypeOf, withDefaults } from './common/config-defaults.ts';
import { multistepTimesteps } from './common/timestep-spacing.ts';
import { VpSigmaBase } from './common/vp-base.ts';
import { predictEpsilon } from './common/prediction.ts';
import { linearCombination } from './common/tensor-ops.ts';
import { solveSmall } from './common/numpy-math.ts';

export const UNIPC_DEFAULTS = {
  ...BASE_DEFAULTS,
  solver_order: 2,
  predict_x0: true,
  solver_type: 'bh2',
  lower_order_final: true,
  disable_corrector: [] as number[],
  solver_p: null,
  use_karras_sigmas: false,
  timestep_spacing: 'linspace',
};

export class UniPCMultistepScheduler extends VpSigmaBase implements Scheduler {
  private readonly solverOrder: number;
  private readonly predictX0: boolean;
  private readonly disableCorrector: readonly number[];
  private lowerOrderNums = 0;
  private lastSample: Float32Array | null = null;
  private thisOrder = 1;

  constructor(config: Partial<SchedulerConfig>) {
    const c: Record<string, unknown> = withDefaults(UNIPC_DEFAULTS, config);
    if (c.solver_type === 'midpoint' || c.solver_type === 'heun' || c.solver_type === 'logrho') c.solver_type = 'bh2';
    super('UniPCMultistepScheduler', c as SchedulerConfig);
    if (c.solver_type !== 'bh1' && c.solver_type !== 'bh2') throw new Error(`UniPCMultistepScheduler: solver_type "${String(c.solver_type)}" is not supported`);
    if (c.solver_p) throw new Error('UniPCMultistepScheduler: solver_p is not supported');
    this.solverOrder = Number(c.solver_order);
    this.predictX0 = c.predict_x0 !== false;
    this.disableCorrector = Array.isArray(c.disable_corrector) ? (c.disable_corrector as number[]) : [];
  }

  override setTimesteps(numInferenceSteps: number): void {
    // With Karras sigmas the last one is repeated, else the schedule ends on sigma_min.
    const final = this.config.use_karras_sigmas ? 'repeat_last' : 'sigma_min';
    this.applySchedule(multistepTimesteps(this.config, numInferenceSteps), final, this.solverOrder);
    this.lowerOrderNums = 0;
    this.lastSample = null;
  }

  private convertModelOutput(m: Float32Array, sample: Float32Array, dims: readonly number[], i: number): Float32Array {
    if (this.predictX0) return this.dataPrediction(m, sample, dims, i);
    const { alpha, sigma } = this.at(i);
    return predictEpsilon(predictionTypeOf(this.config, this.className), m, sample, alpha, sigma);
  }

  step(modelOutput: Latents, timestep: number, sample: Latents): SchedulerStepOutput {
    const i = this.currentStepIndex(timestep);
    const useCorrector = i > 0 && !this.disableCorrector.includes(i - 1) && this.lastSample !== null;
    const converted = this.convertModelOutput(modelOutput.data, sample.data, sample.dims, i);
    // UniC: refine the sample the previous predictor produced, now that its model output is known.
    const x = useCorrector ? this.corrector(converted, this.lastSample!, sample.data, this.thisOrder, i) : sample.data;

    this.modelOutputs.shift();
    this.modelOutputs.push(converted);
    const order = this.config.lower_order_final ? Math.min(this.solverOrder, this.timesteps.length - i) : this.solverOrder;
    this.thisOrder = Math.min(order, this.lowerOrderNums + 1); // warm-up
    this.lastSample = useCorrector ? x : x.slice();
    const prev = this.predictor(x, this.thisOrder, i);
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.index.step = i + 1;
    return { prevSample: { data: prev, dims: sample.dims } };
  }

  /** hh, h*phi_1(hh), B(h) and the right-hand side b of the order conditions. */
  private coefficients(h: number, order: number): { hh: number; hPhi1: number; Bh: number; b: number[] } {
    const hh = this.predictX0 ? -h : h;
    const hPhi1 = Math.expm1(hh);
    let hPhiK = hPhi1 / hh - 1;
    let factorial = 1;
    const Bh = this.config.solver_type === 'bh1' ? hh : Math.expm1(hh);
    const b: number[] = [];
    for (let k = 1; k <= order; k++) {
      b.push((hPhiK * factorial) / Bh);
      factorial *= k + 1;
      hPhiK = hPhiK / hh - 1 / factorial;
    }
    return { hh, hPhi1, Bh, b };
  }

  /** rk_j and the difference terms (m_j - m0) / rk_j for the older model outputs, index offsets from `s0`. */
  private differences(s0Index: number, order: number, lambdaS0: number, h: number, offset: number) {
    const k = this.modelOutputs.length;
    const rks: number[] = [];
    const mis: Float32Array[] = [];
    for (let j = 1; j < order; j++) {
      const lambdaSi = this.at(s0Index - j - offset).lambda;
      rks.push((lambdaSi - lambdaS0) / h);
      mis.push(this.modelOutputs[k - 1 - j - offset]!);
    }
    return { rks, mis };
  }

  /** x_t = base(x, m0) - c * B(h) * sum_j rho_j (m_j - m0)/r_j [+ rho_last (mT - m0)] as one linear combination. */
  private combine(
    x: Float32Array, m0: Float32Array, xCoeff: number, m0Coeff: number, scale: number,
    rhos: number[], rks: number[], mis: Float32Array[], extra?: { rho: number; m: Float32Array },
  ): Float32Array {
    const coeffs = [xCoeff, m0Coeff];
    const terms = [x, m0];
    for (let j = 0; j < mis.length; j++) {
      const c = -scale * rhos[j]! / rks[j]!;
      coeffs.push(c);
      terms.push(mis[j]!);
      coeffs[1]! -= c;
    }
    if (extra) {
      coeffs.push(-scale * extra.rho);
      terms.push(extra.m);
      coeffs[1]! += scale * extra.rho;
    }
    return linearCombination(coeffs, terms);
  }

  private predictor(x: Float32Array, order: number, i: number): Float32Array {
    const k = this.modelOutputs.length;
    const m0 = this.modelOutputs[k - 1]!;
    const t = this.at(i + 1), s0 = this.at(i);
    const h = t.lambda - s0.lambda;
    const { rks, mis } = this.differences(i, order, s0.lambda, h, 0);
    const { hPhi1, Bh, b } = this.coefficients(h, order);
    let rhos: number[] = [];
    if (mis.length > 0) {
      if (order === 2) rhos = [0.5];
      else {
        const R = rowsOfPowers([...rks, 1], order);
        rhos = solveSmall(R.slice(0, -1).map((r) => r.slice(0, -1)), b.slice(0, -1));
      }
    }
    return this.predictX0
      ? this.combine(x, m0, t.sigma / s0.sigma, -t.alpha * hPhi1, t.alpha * Bh, rhos, rks, mis)
      : this.combine(x, m0, t.alpha / s0.alpha, -t.sigma * hPhi1, t.sigma * Bh, rhos, rks, mis);
  }

  private corrector(modelT: Float32Array, lastSample: Float32Array, _thisSample: Float32Array, order: number, i: number): Float32Array {
    const k = this.modelOutputs.length;
    const m0 = this.modelOutputs[k - 1]!;
    const t = this.at(i), s0 = this.at(i - 1);
    const h = t.lambda - s0.lambda;
    // Older outputs relative to s0 = i - 1: sigma index i - 1 - j, model output k - 1 - j.
    const rks: number[] = [];
    const mis: Float32Array[] = [];
    for (let j = 1; j < order; j++) {
      rks.push((this.at(i - 1 - j).lambda - s0.lambda) / h);
      mis.push(this.modelOutputs[k - 1 - j]!);
    }
    const { hPhi1, Bh, b } = this.coefficients(h, order);
    const rhosC = order === 1 ? [0.5] : solveSmall(rowsOfPowers([...rks, 1], order), b);
    const last = rhosC[rhosC.length - 1]!;
    return this.predictX0
      ? this.combine(lastSample, m0, t.sigma / s0.sigma, -t.alpha * hPhi1, t.alpha * Bh, rhosC, rks, mis, { rho: last, m: modelT })
      : this.combine(lastSample, m0, t.alpha / s0.alpha, -t.sigma * hPhi1, t.sigma * Bh, rhosC, rks, mis, { rho: last, m: modelT });
  }
}

/** R[p][j] = rks[j]^p for p < order (torch.stack of torch.pow(rks, p)). */
function rowsOfPowers(rks: number[], order: number): number[][] {
  const R: number[][] = [];
  for (let p = 0; p < order; p++) R.push(rks.map((r) => r ** p));
  return R;
}
