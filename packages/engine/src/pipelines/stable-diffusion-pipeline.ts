/**
 * StableDiffusionPipeline: txt2img, img2img and inpaint (4- and 9-channel UNets) as diffusers
 * 0.27.2 runs them, on ONNX Runtime. Load once, generate many times.
 */
import { ClipTokenizer } from '../text/clip-tokenizer.ts';
import { TorchGenerator } from '../random/torch-generator.ts';
import { createScheduler } from '../schedulers/registry.ts';
import type { Scheduler } from '../schedulers/types.ts';
import { loadSdModels, type SdModels } from '../models/sd-models.ts';
import type { HiddenStates } from '../models/unet-model.ts';
import type { SessionConfig } from '../models/onnx-session.ts';
import type { ModelInfo } from '../models/model-info.ts';
import { encodePromptPair } from '../text/encode-prompt.ts';
import type { PromptTokenizer, RunTextEncoder } from '../text/text-encoder-fn.ts';
import { prepareLatents } from './prepare-latents.ts';
import { denoise } from './denoise-loop.ts';
import { divide } from './latent-ops.ts';
import { tensorToImages } from './image-tensors.ts';
import { checkpoint } from './abort.ts';
import { sliceState } from './prepare-latents.ts';
import { validateRequest } from './validate-request.ts';
import type { GenerateOptions, GenerateRequest, GenerateResult } from './types.ts';

export const DEFAULT_MAX_UNET_BATCH_ELEMENTS = 2 * 4 * 64 * 64;

export interface PipelineLoadOptions extends SessionConfig {
  /** Run each graph once at a small size so the first job does not pay for lazy initialisation (default true). */
  warmup?: boolean;
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
  readonly tokenizer: PromptTokenizer;
  private readonly rngKernel: 'avx2' | 'default';
  private readonly runTextEncoder: RunTextEncoder;
  readonly maxUnetBatchElements: number;

  private constructor(models: SdModels, tokenizer: PromptTokenizer, opts: PipelineLoadOptions) {
    this.models = models;
    this.tokenizer = tokenizer;
    this.rngKernel = opts.rngKernel ?? 'avx2';
    this.maxUnetBatchElements = opts.maxUnetBatchElements ?? DEFAULT_MAX_UNET_BATCH_ELEMENTS;
    this.runTextEncoder = (ids, rows) => models.textEncoder.run(ids, rows);
  }

  static async load(dir: string, opts: PipelineLoadOptions = {}): Promise<StableDiffusionPipeline> {
    const models = await loadSdModels(dir, opts);
    const tokenizer = await ClipTokenizer.fromDirectory(`${models.info.dir}/tokenizer`);
    const pipe = new StableDiffusionPipeline(models, tokenizer, opts);
    if (opts.warmup ?? true) await pipe.warmup();
    return pipe;
  }

  get info(): ModelInfo {
    return this.models.info;
  }

  /** A one-step job at the smallest accepted size: initialises every graph's kernels. */
  async warmup(): Promise<void> {
    const size = this.info.sizeStep;
    const mode = this.info.capabilities[0]!;
    const gray = { data: new Uint8Array(size * size * 3).fill(128), width: size, height: size };
    await this.generate({
      mode, prompt: '', width: size, height: size, steps: 1, guidanceScale: 2, seed: 0, numImages: 1, strength: 1,
      ...(mode === 'txt2img' ? {} : { initImage: gray, maskImage: { data: new Uint8Array(size * size).fill(255), width: size, height: size } }),
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

  async generate(req: GenerateRequest, opts: GenerateOptions = {}): Promise<GenerateResult> {
    validateRequest(this.info, req);
    checkpoint(opts);
    const { unet } = this.models;
    const batch = req.numImages;
    const generators = opts.noise ? null
      : Array.from({ length: batch }, (_, i) => new TorchGenerator(req.seed + i, { kernel: this.rngKernel }));
    const cfg = req.guidanceScale > 1;

    const hiddenSize = this.info.textHiddenSize;
    const { cond, uncond } = await encodePromptPair({
      tokenizer: this.tokenizer, runTextEncoder: this.runTextEncoder, hidden: hiddenSize,
      prompt: req.prompt, negativePrompt: req.negativePrompt ?? '', withNegative: cfg,
    }, req.promptSyntax ?? 'plain');
    opts.probe?.('prompt_embeds', cond.data, [1, cond.tokens, hiddenSize]);
    if (uncond) opts.probe?.('negative_prompt_embeds', uncond.data, [1, uncond.tokens, hiddenSize]);
    if (uncond && uncond.tokens !== cond.tokens) throw new Error(`prompt and negative prompt encode to ${cond.tokens} and ${uncond.tokens} tokens`);
    // Text for a group of n images: [uncond × n, cond × n] rows, as diffusers concatenates them.
    const hiddenFor = (n: number) => {
      const rows = cfg ? 2 * n : n;
      const per = cond.tokens * hiddenSize;
      const data = new Float32Array(rows * per);
      for (let r = 0; r < rows; r++) data.set(cfg && r < n ? uncond!.data : cond.data, r * per);
      return unet.prepareHidden(data, rows, cond.tokens, hiddenSize);
    };

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
    const hiddenBySize = new Map<number, HiddenStates>();
    for (let g = 0; g < groups.length; g++) {
      const [start, n] = groups[g]!;
      let hidden = hiddenBySize.get(n);
      if (!hidden) hiddenBySize.set(n, (hidden = hiddenFor(n)));
      const { scheduler, timesteps } = g === 0 ? first : schedule();
      const out = await denoise({
        unet, scheduler, timesteps, hidden, guidanceScale: req.guidanceScale, cfg,
        generator: opts.noise ?? generators!.slice(start, start + n),
        state: groups.length === 1 ? state : sliceState(state, start, n),
        unetInChannels: this.info.unetInChannels,
        stepOffset: g * timesteps.length, totalSteps: groups.length * timesteps.length,
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

  async release(): Promise<void> {
    await this.models.release();
  }
}
