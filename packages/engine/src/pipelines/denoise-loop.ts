/**
 * diffusers' denoising loop, shared by the three modes: scale → UNet (CFG rows [uncond…, cond…]
 * in one batch; the UNet runs it in chunks when its graph's batch is fixed or the latents are large) → guidance → scheduler step →
 * (4-channel inpaint) blend the known region back. Buffers are allocated once per job.
 */
import type { NoiseGenerator } from '../random/noise-generator.ts';
import type { Scheduler } from '../schedulers/types.ts';
import type { HiddenStates, UnetModel } from '../models/unet-model.ts';
import type { Latents } from '../tensor.ts';
import type { GenerateOptions } from './types.ts';
import type { InitialState } from './prepare-latents.ts';
import { applyGuidance, blendMasked, writeLeadingChannels } from './latent-ops.ts';
import { checkpoint } from './abort.ts';
import type { StepPreviewer } from '../preview/step-previewer.ts';

export interface DenoiseInput {
  unet: UnetModel;
  scheduler: Scheduler;
  timesteps: Float64Array;
  hidden: HiddenStates;
  guidanceScale: number;
  cfg: boolean;
  generator: NoiseGenerator | readonly NoiseGenerator[];
  state: InitialState;
  unetInChannels: number;
  /** Progress across a job denoised in several groups: steps already done, and the job's total (default 0 and timesteps.length). */
  stepOffset?: number;
  totalSteps?: number;
  /** Live previews of this job (GenerateOptions.preview), when asked for. */
  previewer?: StepPreviewer;
}

export async function denoise(input: DenoiseInput, opts: GenerateOptions): Promise<Latents> {
  const { unet, scheduler, timesteps, hidden, cfg, state } = input;
  let latents = state.latents;
  const [batch, c, h, w] = latents.dims as [number, number, number, number];
  const hw = h * w;
  const rows = cfg ? 2 * batch : batch;
  const inC = input.unetInChannels;
  const unetDims = [rows, inC, h, w] as const;
  // The UNet input is only assembled when it differs from the scaled latents themselves.
  const needsInput = cfg || inC !== c;
  const unetInput = needsInput ? new Float32Array(rows * inC * hw) : null;
  if (unetInput && state.inpaintCondition) fillInpaintCondition(unetInput, state.inpaintCondition, batch, rows, c, inC, hw);
  // Guided predictions and blended latents get fresh buffers each step: multistep schedulers keep
  // references to earlier model outputs and samples.
  const n = timesteps.length;
  const offset = input.stepOffset ?? 0;
  const total = input.totalSteps ?? n;

  for (let i = 0; i < n; i++) {
    checkpoint(opts);
    const t = timesteps[i]!;
    const scaled = scheduler.scaleModelInput(latents, t);
    let sample = scaled.data;
    if (unetInput) {
      writeLeadingChannels(scaled.data, batch, rows, c, inC, hw, unetInput);
      sample = unetInput;
    }
    const pred = await unet.run(sample, unetDims, t, hidden);
    if (i === 0 && offset === 0 && opts.probe) {
      opts.probe('unet_step0_sample', sample, unetDims);
      opts.probe('unet_step0_out', pred, [rows, c, h, w]);
    }
    const noisePred = cfg ? applyGuidance(pred, input.guidanceScale, new Float32Array(batch * c * hw)) : pred;
    const xt = latents;
    const stepped = scheduler.step({ data: noisePred, dims: latents.dims }, t, latents, { generator: input.generator });
    latents = stepped.prevSample;
    if (state.blend) latents = blendKnown(scheduler, state.blend, timesteps, i, latents, batch, c);
    opts.probe?.('latents', latents.data, latents.dims);
    await input.previewer?.afterStep(offset + i + 1, total, latents.dims, { scheduler, out: { ...stepped, prevSample: latents }, sample: xt.data, modelOutput: noisePred, timestep: t });
    opts.onStep?.(offset + i + 1, total, latents);
  }
  return latents;
}

/** Mask (1 ch) and masked-image latents (c ch) after the c latent channels of every row. */
export function fillInpaintCondition(dst: Float32Array, cond: { mask: Float32Array; maskedLatents: Float32Array }, batch: number, rows: number, c: number, inC: number, hw: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * inC * hw;
    dst.set(cond.mask, base + c * hw);
    const b = r % batch;
    dst.set(cond.maskedLatents.subarray(b * c * hw, (b + 1) * c * hw), base + (c + 1) * hw);
  }
}

/** The original latents re-noised to the next timestep (or clean after the last) outside the mask. */
export function blendKnown(scheduler: Scheduler, blend: NonNullable<InitialState['blend']>, timesteps: Float64Array, i: number,
  latents: Latents, batch: number, c: number): Latents {
  const known = i < timesteps.length - 1
    ? scheduler.addNoise(blend.imageLatents, blend.noise, timesteps[i + 1]!).data
    : blend.imageLatents.data;
  return { data: blendMasked(latents.data, known, blend.mask, batch, c, new Float32Array(latents.data.length)), dims: latents.dims };
}
