/**
 * StableDiffusionPipeline: txt2img, img2img and inpaint (4- and 9-channel UNets) as diffusers
 * 0.27.2 runs them, on ONNX Runtime. Load once, generate many times.
 */
import { ClipTokenizer } from '../text/clip-tokenizer.ts';
import { TorchGenerator } from '../random/torch-generator.ts';
import type { NoiseGenerator } from '../random/noise-generator.ts';
import { createScheduler } from '../schedulers/registry.ts';
import type { Scheduler } from '../schedulers/types.ts';
import { loadSdModels, type SdModels } from '../models/sd-models.ts';
import type { SessionConfig } from '../models/onnx-session.ts';
import type { ModelInfo } from '../models/model-info.ts';
import { encodePromptPair } from '../text/encode-prompt.ts';
import type { PromptTokenizer, RunTextEncoder } from '../text/text-encoder-fn.ts';
import { prepareLatents } from './prepare-latents.ts';
import { denoise } from './denoise-loop.ts';
import { divide } from './latent-ops.ts';
import { tensorToImages } from './image-tensors.ts';
import { throwIfAborted } from './abort.ts';
import { validateRequest } from './validate-request.ts';
import type { GenerateOptions, GenerateRequest, GenerateResult } from './types.ts';

export interface PipelineLoadOptions extends SessionConfig {
  /** Run each graph once at a small size so the first job does not pay for lazy initialisation (default true). */
  warmup?: boolean;
  /** Which ATen normal kernel the seeds reproduce (default 'avx2', what x86-64 diffusers runs). */
  rngKernel?: 'avx2' | 'default';
}

export class StableDiffusionPipeline {
  readonly models: SdModels;
  readonly tokenizer: PromptTokenizer;
  private readonly rngKernel: 'avx2' | 'default';
  private readonly runTextEncoder: RunTextEncoder;

  private constructor(models: SdModels, tokenizer: PromptTokenizer, opts: PipelineLoadOptions) {
    this.models = models;
    this.tokenizer = tokenizer;
    this.rngKernel = opts.rngKernel ?? 'avx2';
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
    throwIfAborted(opts.signal);
    const { unet, vaeDecoder } = this.models;
    const batch = req.numImages;
    const generator: NoiseGenerator | NoiseGenerator[] = opts.noise
      ?? Array.from({ length: batch }, (_, i) => new TorchGenerator(req.seed + i, { kernel: this.rngKernel }));
    const cfg = req.guidanceScale > 1;

    // Text: [uncond × batch, cond × batch] rows, as diffusers concatenates them.
    const hiddenSize = this.info.textHiddenSize;
    const { cond, uncond } = await encodePromptPair({
      tokenizer: this.tokenizer, runTextEncoder: this.runTextEncoder, hidden: hiddenSize,
      prompt: req.prompt, negativePrompt: req.negativePrompt ?? '', withNegative: cfg,
    }, req.promptSyntax ?? 'plain');
    opts.probe?.('prompt_embeds', cond.data, [1, cond.tokens, hiddenSize]);
    if (uncond) opts.probe?.('negative_prompt_embeds', uncond.data, [1, uncond.tokens, hiddenSize]);
    if (uncond && uncond.tokens !== cond.tokens) throw new Error(`prompt and negative prompt encode to ${cond.tokens} and ${uncond.tokens} tokens`);
    const rows = cfg ? 2 * batch : batch;
    const per = cond.tokens * hiddenSize;
    const hiddenData = new Float32Array(rows * per);
    for (let r = 0; r < rows; r++) hiddenData.set(cfg && r < batch ? uncond!.data : cond.data, r * per);
    const hidden = unet.prepareHidden(hiddenData, rows, cond.tokens, hiddenSize);

    // Schedule: img2img/inpaint keep the last ⌊steps·strength⌋ steps (diffusers' get_timesteps).
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

    const state = await prepareLatents({ models: this.models, scheduler, timesteps, generator, batch }, req);
    const latents = await denoise({
      unet, scheduler, timesteps, hidden, guidanceScale: req.guidanceScale, cfg, generator, state,
      unetInChannels: this.info.unetInChannels,
    }, opts);

    throwIfAborted(opts.signal);
    const decoded = await vaeDecoder.run(divide(latents.data, this.info.scalingFactor), latents.dims);
    opts.probe?.('decoded', decoded.data, decoded.dims);
    const images = tensorToImages(decoded.data, batch, req.width, req.height);
    return { images: images.map((img, i) => ({ ...img, seed: req.seed + i })) };
  }

  async release(): Promise<void> {
    await this.models.release();
  }
}
