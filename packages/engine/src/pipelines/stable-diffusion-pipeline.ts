/**
 * StableDiffusionPipeline: txt2img, img2img and inpaint (4- and 9-channel UNets) as diffusers
 * 0.27.2 runs them, on ONNX Runtime, for SD 1.x/2.x and SDXL folders. The model family only
 * changes the text conditioning (text-conditioning.ts: StableDiffusion(Img2Img|Inpaint)Pipeline's
 * encoder, or StableDiffusionXL*Pipeline's two encoders with pooled embeddings and time ids) and
 * the default strength; scheduling, latents, the denoise loop and decoding are shared.
 * Load once, generate many times.
 */
import { ClipTokenizer } from '../text/clip-tokenizer.ts';
import { TorchGenerator } from '../random/torch-generator.ts';
import { createScheduler } from '../schedulers/registry.ts';
import type { Scheduler } from '../schedulers/types.ts';
import { loadSdModels, type SdModels } from '../models/sd-models.ts';
import type { HiddenStates } from '../models/unet-model.ts';
import type { SessionConfig } from '../models/onnx-session.ts';
import { checkSize, SDXL_DEFAULT_STRENGTH, type ModelInfo } from '../models/model-info.ts';
import type { PromptTokenizer } from '../text/text-encoder-fn.ts';
import { blendConditioning } from './prompt-blend.ts';
import { encodeSdConditioning, encodeSdxlConditioning, unetTextFeeds, type TextConditioning } from './text-conditioning.ts';
import { prepareLatents } from './prepare-latents.ts';
import { denoise } from './denoise-loop.ts';
import { divide } from './latent-ops.ts';
import { tensorToImages } from './image-tensors.ts';
import { checkpoint } from './abort.ts';
import { sliceState } from './prepare-latents.ts';
import { validateRequest } from './validate-request.ts';
import type { GenerateOptions, GenerateRequest, GenerateResult } from './types.ts';
import { PreviewDecoders } from '../preview/preview-decoders.ts';
import { StepPreviewer } from '../preview/step-previewer.ts';

export const DEFAULT_MAX_UNET_BATCH_ELEMENTS = 2 * 4 * 64 * 64;

export interface PipelineLoadOptions extends SessionConfig {
  /** Warm the graphs up when loading (default true): see warmupSizes. */
  warmup?: boolean;
  /**
   * Sizes of the warm-up runs (one step, CFG on, one VAE decode each): ORT sizes its buffers and
   * picks its kernels per input shape, so a size warmed here runs its first real job at steady
   * speed. Default: the model's native size; empty: no warm-up. Sizes the model refuses are skipped.
   */
  warmupSizes?: ReadonlyArray<{ width: number; height: number }>;
  /** Which ATen normal kernel the seeds reproduce (default 'avx2', what x86-64 diffusers runs). */
  rngKernel?: 'avx2' | 'default';
  /**
   * Largest UNet input, in latent elements (rows × C × h × w), that several images may share:
   * default 32768 = one CFG pair of SD-sized 64×64×4 latents, so 512×512 jobs run one image per
   * UNet call and smaller sizes batch images. A single image always runs whole.
   */
  maxUnetBatchElements?: number;
}

export class StableDiffusionPipeline {
  readonly models: SdModels;
  /** The first encoder's tokenizer (SDXL refiners: tokenizer_2). */
  readonly tokenizer: PromptTokenizer;
  /** SDXL: one tokenizer per encoder of models.textEncoders (tokenizer, tokenizer_2). */
  readonly tokenizers: readonly PromptTokenizer[];
  /** The ATen normal kernel its seeds reproduce (batch-generate.ts seeds with it too). */
  readonly rngKernel: 'avx2' | 'default';
  readonly maxUnetBatchElements: number;
  /** Live-preview decoders of this folder (shared with LoRA copies: the latent space is the base's). */
  readonly previews: PreviewDecoders;

  private constructor(models: SdModels, tokenizers: PromptTokenizer[], opts: PipelineLoadOptions, previews?: PreviewDecoders) {
    this.models = models;
    this.tokenizer = tokenizers[0]!;
    this.tokenizers = tokenizers;
    this.previews = previews ?? new PreviewDecoders(models.info, opts);
    this.rngKernel = opts.rngKernel ?? 'avx2';
    this.maxUnetBatchElements = opts.maxUnetBatchElements ?? DEFAULT_MAX_UNET_BATCH_ELEMENTS;
  }

  static async load(dir: string, opts: PipelineLoadOptions = {}): Promise<StableDiffusionPipeline> {
    const models = await loadSdModels(dir, opts);
    const folders = models.info.sdxl?.textEncoders.map((e) => (e === 'text_encoder' ? 'tokenizer' : 'tokenizer_2')) ?? ['tokenizer'];
    const tokenizers = await Promise.all(folders.map((f) => ClipTokenizer.fromDirectory(`${models.info.dir}/${f}`)));
    const pipe = new StableDiffusionPipeline(models, tokenizers, opts);
    if (opts.warmup ?? true) {
      const sizes = opts.warmupSizes ?? [{ width: models.info.nativeSize, height: models.info.nativeSize }];
      for (const { width, height } of sizes) {
        const refused = checkSize(models.info, width, height);
        if (refused) { opts.log?.(`warm-up of ${models.info.id} at ${width}x${height} skipped: ${refused}`); continue; }
        const started = performance.now();
        await pipe.warmup(width, height);
        opts.log?.(`warm-up of ${models.info.id} at ${width}x${height}: ${Math.round(performance.now() - started)} ms`);
      }
    }
    return pipe;
  }

  get info(): ModelInfo {
    return this.models.info;
  }

  /** A one-step CFG job at this size (default: the smallest accepted): initialises every graph's kernels and buffers for it. */
  async warmup(width = this.info.sizeStep, height = width): Promise<void> {
    const mode = this.info.capabilities[0]!;
    const gray = { data: new Uint8Array(width * height * 3).fill(128), width, height };
    await this.generate({
      mode, prompt: '', width, height, steps: 1, guidanceScale: 2, seed: 0, numImages: 1, strength: 1,
      ...(mode === 'txt2img' ? {} : { initImage: gray, maskImage: { data: new Uint8Array(width * height).fill(255), width, height } }),
    });
  }

  /**
   * diffusers swaps schedulers with `Cls.from_config(pipe.scheduler.config)`: the config of the
   * model's own scheduler *with that class's defaults filled in* (e.g. PNDM's timestep_spacing
   * "leading"), so the swap starts from the own scheduler's effective config, not the raw file.
   */
  createScheduler(name?: string): Scheduler {
    const own = createScheduler('default', this.models.schedulerConfig);
    if (!name || name.trim().toLowerCase() === 'default') return own;
    return createScheduler(name, own.config);
  }

  /** The strength a job runs with: its own, else the pipeline's default (SD 1; SDXL 0.3 img2img, 0.9999 inpaint). */
  defaultStrength(mode: GenerateRequest['mode']): number {
    if (this.info.sdxl && mode !== 'txt2img') return SDXL_DEFAULT_STRENGTH[mode];
    return 1;
  }

  /** The text conditioning of a job (prompt embeddings; SDXL also pooled embeddings and time ids). */
  async encodeText(req: GenerateRequest, cfg: boolean, probe?: GenerateOptions['probe']): Promise<TextConditioning> {
    const encode = (r: GenerateRequest, p?: GenerateOptions['probe']) => (this.info.sdxl
      ? encodeSdxlConditioning(this.models, this.tokenizers, r, cfg, p)
      : encodeSdConditioning(this.models, this.tokenizer, r, cfg, p));
    const text = await encode(req, probe);
    const blend = req.promptBlend;
    if (!blend || blend.weight === 0) return text;
    const other = await encode({ ...req, prompt: blend.prompt, negativePrompt: blend.negativePrompt ?? req.negativePrompt, promptBlend: undefined });
    return blendConditioning(text, other, blend.weight);
  }

  async generate(request: GenerateRequest, opts: GenerateOptions = {}): Promise<GenerateResult> {
    validateRequest(this.info, request);
    checkpoint(opts);
    const req = request.mode === 'txt2img' || request.strength !== undefined
      ? request
      : { ...request, strength: this.defaultStrength(request.mode) };
    const batch = req.numImages;
    const generators = opts.noise ? null
      : Array.from({ length: batch }, (_, i) => new TorchGenerator(req.seed + i, { kernel: this.rngKernel }));
    const cfg = req.guidanceScale > 1;

    const text = await this.encodeText(req, cfg, opts.probe);

    // Schedule: img2img/inpaint keep the last ⌊steps·strength⌋ steps (diffusers' get_timesteps).
    const schedule = () => {
      const scheduler = this.createScheduler(req.scheduler);
      scheduler.setTimesteps(req.steps);
      let timesteps = scheduler.timesteps;
      if (req.mode !== 'txt2img') {
        const strength = req.strength ?? 1;
        const initTimestep = Math.min(Math.floor(req.steps * strength), req.steps);
        const tStart = Math.max(req.steps - initTimestep, 0);
        if (req.steps - tStart < 1) throw new RangeError(`strength ${strength} with ${req.steps} steps leaves no denoising step`);
        timesteps = timesteps.subarray(tStart * scheduler.order);
        scheduler.setBeginIndex?.(tStart * scheduler.order);
      }
      return { scheduler, timesteps };
    };
    const first = schedule();

    // Every image's starting state at once (small: latents, and one VAE encode per input image).
    const state = await prepareLatents({
      models: this.models, scheduler: first.scheduler, timesteps: first.timesteps,
      generator: opts.noise ?? generators!, batch, checkpoint: () => checkpoint(opts),
    }, req);

    // Images are denoised in groups small enough for the UNet's activations (see imageGroups); each
    // image has its own generator, so a group draws exactly what it would in the whole batch.
    const [, c, h, w] = state.latents.dims as [number, number, number, number];
    const groups = this.imageGroups(batch, cfg, c, h, w, !!opts.noise);
    const per = c * h * w;
    const latents = groups.length === 1 ? null : new Float32Array(batch * per);
    let final = state.latents.data;
    // Text feeds per group shape (SDXL time ids also depend on the group's start parity).
    const hiddenByShape = new Map<string, HiddenStates>();
    const preview = opts.preview && await this.previews.get();
    const previewer = preview ? new StepPreviewer(preview, opts.preview!) : undefined;
    for (let g = 0; g < groups.length; g++) {
      const [start, n] = groups[g]!;
      const key = `${n}:${start % 2}`;
      let hidden = hiddenByShape.get(key);
      if (!hidden) hiddenByShape.set(key, (hidden = unetTextFeeds(this.models, text, start, n, batch, cfg, opts.probe)));
      const { scheduler, timesteps } = g === 0 ? first : schedule();
      const out = await denoise({
        unet: this.models.unet, scheduler, timesteps, hidden, guidanceScale: req.guidanceScale, cfg,
        generator: opts.noise ?? generators!.slice(start, start + n),
        state: groups.length === 1 ? state : sliceState(state, start, n),
        unetInChannels: this.info.unetInChannels,
        stepOffset: g * timesteps.length, totalSteps: groups.length * timesteps.length, previewer,
      }, opts);
      if (latents) latents.set(out.data, start * per);
      else final = out.data;
    }
    if (latents) final = latents;

    // VAE decode one image at a time: a batch of full-size images multiplies the decoder's peak memory.
    const images: GenerateResult['images'] = [];
    const decodedAll = opts.probe ? new Float32Array(batch * 3 * req.width * req.height) : null;
    let decodedDims: number[] = [];
    for (let b = 0; b < batch; b++) {
      checkpoint(opts);
      const z = divide(final.subarray(b * per, (b + 1) * per), this.info.scalingFactor);
      const decoded = await this.models.vaeDecoder.run(z, [1, c, h, w]);
      decodedAll?.set(decoded.data, b * decoded.data.length);
      decodedDims = [batch, ...decoded.dims.slice(1)];
      images.push({ ...tensorToImages(decoded.data, 1, req.width, req.height)[0]!, seed: req.seed + b });
    }
    if (decodedAll) opts.probe!('decoded', decodedAll, decodedDims);
    return { images };
  }

  /**
   * [start, count] groups of images per UNet call. CFG keeps its batch of 2 rows per image; several
   * images share a call only while the call's latent elements (rows × C × h × w) stay within
   * maxUnetBatchElements — the UNet's activations (attention over h·w tokens above all) grow with
   * the batch, and ORT's arena keeps the peak. One group when one noise source serves every image
   * (tests replaying diffusers' interleaved draws) or when the graph's batch is fixed (it runs in
   * chunks of that size anyway).
   */
  imageGroups(batch: number, cfg: boolean, c: number, h: number, w: number, sharedNoise: boolean): Array<[number, number]> {
    const perImage = (cfg ? 2 : 1) * c * h * w;
    const size = sharedNoise || this.models.unet.batch !== null
      ? batch
      : Math.max(1, Math.min(batch, Math.floor(this.maxUnetBatchElements / perImage)));
    const groups: Array<[number, number]> = [];
    for (let s = 0; s < batch; s += size) groups.push([s, Math.min(size, batch - s)]);
    return groups;
  }

  /** The same pipeline over other sessions of this folder (LoRA-merged graphs); tokenizers and settings are shared. */
  withModels(models: SdModels): StableDiffusionPipeline {
    return new StableDiffusionPipeline(models, [...this.tokenizers], { rngKernel: this.rngKernel, maxUnetBatchElements: this.maxUnetBatchElements }, this.previews.shared());
  }

  async release(): Promise<void> {
    await this.models.release();
    await this.previews.release();
  }
}
