/**
 * The starting state of each mode, drawing noise in diffusers' order (per generator):
 * - txt2img: prepare_latents noise × init_noise_sigma.
 * - img2img: VAE latent sample, then noise; add_noise at the first kept timestep.
 * - inpaint: (image latents when the UNet has 4 channels or strength < 1), noise, then the
 *   masked image's latents, which are drawn even when a 4-channel UNet never uses them.
 */
import { randnTensor, type NoiseGenerator } from '../random/noise-generator.ts';
import type { Scheduler } from '../schedulers/types.ts';
import type { SdModels } from '../models/sd-models.ts';
import type { Latents } from '../tensor.ts';
import type { GenerateRequest } from './types.ts';
import { binaryMask, downsampleMask, maskedImage, rgbToTensor } from './image-tensors.ts';
import { sampleLatentDist, scale, scaleRows } from './latent-ops.ts';

export interface InitialState {
  latents: Latents;
  /** 9-channel UNets: per-row mask (1 ch) and masked-image latents (4 ch), rows = batch. */
  inpaintCondition?: { mask: Float32Array; maskedLatents: Float32Array };
  /** 4-channel inpainting: what to blend back outside the mask after each step. */
  blend?: { imageLatents: Latents; noise: Latents; mask: Float32Array };
}

type Gens = NoiseGenerator | readonly NoiseGenerator[];

export interface PrepareContext {
  models: SdModels;
  scheduler: Scheduler;
  timesteps: Float64Array;
  generator: Gens;
  batch: number;
  /** Cancellation point, called before each VAE encode. */
  checkpoint?: () => void;
}

/** VAE-encodes one [1, 3, H, W] image (one encoder call whatever the batch) and samples one latent per row from the row's generator. */
async function encodeImage(ctx: PrepareContext, image: Float32Array, width: number, height: number): Promise<Float32Array> {
  const { models, batch } = ctx;
  const enc = models.vaeEncoder;
  if (!enc) throw new Error(`model ${models.info.id} has no VAE encoder`);
  const c = models.info.latentChannels;
  const h = height / models.info.vaeScaleFactor;
  const w = width / models.info.vaeScaleFactor;
  ctx.checkpoint?.();
  const out = await enc.run(image, [1, 3, height, width]);
  const noise = randnTensor([batch, c, h, w], ctx.generator);
  const s = models.info.scalingFactor;
  return out.kind === 'parameters'
    ? sampleLatentDist(out.data, batch, c, h * w, noise, s)
    : scaleRows(out.data, batch, c * h * w, s);
}

export async function prepareLatents(ctx: PrepareContext, req: GenerateRequest): Promise<InitialState> {
  const { models, scheduler, timesteps, batch } = ctx;
  const { vaeScaleFactor: f, latentChannels: c } = models.info;
  const h = req.height / f;
  const w = req.width / f;
  const dims = [batch, c, h, w] as const;
  const sigma = scheduler.initNoiseSigma;

  if (req.mode === 'txt2img') {
    const noise = randnTensor(dims, ctx.generator);
    return { latents: { data: sigma === 1 ? noise : scale(noise, sigma, noise), dims } };
  }

  const image = rgbToTensor(req.initImage!);
  if (req.mode === 'img2img') {
    const imageLatents = await encodeImage(ctx, image, req.width, req.height);
    const noise = randnTensor(dims, ctx.generator);
    return { latents: scheduler.addNoise({ data: imageLatents, dims }, { data: noise, dims }, timesteps[0]!) };
  }

  // inpaint
  const mask = binaryMask(req.maskImage!);
  const nineChannels = models.info.unetInChannels !== c;
  const strengthMax = (req.strength ?? 1) === 1;
  const imageLatents = !nineChannels || !strengthMax ? await encodeImage(ctx, image, req.width, req.height) : null;
  const noise = randnTensor(dims, ctx.generator);
  const latents: Latents = strengthMax
    ? { data: sigma === 1 ? noise.slice() : scale(noise, sigma), dims }
    : scheduler.addNoise({ data: imageLatents!, dims }, { data: noise, dims }, timesteps[0]!);
  const maskLatent = downsampleMask(mask, req.width, req.height, w, h);
  const maskedLatents = await encodeImage(ctx, maskedImage(image, mask), req.width, req.height);
  if (nineChannels) return { latents, inpaintCondition: { mask: maskLatent, maskedLatents } };
  return { latents, blend: { imageLatents: { data: imageLatents!, dims }, noise: { data: noise, dims }, mask: maskLatent } };
}

/** Images [start, start + n) of a batch's starting state (views, no copies). */
export function sliceState(state: InitialState, start: number, n: number): InitialState {
  const rows = (l: Latents): Latents => {
    const per = l.data.length / l.dims[0]!;
    return { data: l.data.subarray(start * per, (start + n) * per), dims: [n, ...l.dims.slice(1)] };
  };
  const out: InitialState = { latents: rows(state.latents) };
  if (state.inpaintCondition) {
    const { mask, maskedLatents } = state.inpaintCondition;
    const per = state.latents.data.length / state.latents.dims[0]!;
    out.inpaintCondition = { mask, maskedLatents: maskedLatents.subarray(start * per, (start + n) * per) };
  }
  if (state.blend) out.blend = { imageLatents: rows(state.blend.imageLatents), noise: rows(state.blend.noise), mask: state.blend.mask };
  return out;
}
