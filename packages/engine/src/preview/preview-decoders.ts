/**
 * The preview decoder of one model folder: `vae_approx/model.onnx` (a TAESD export) when the folder
 * has it, else the linear latent→RGB map for the model's latent space (SDXL's or SD 1.x/2.x's);
 * none for latents of other channel counts. Opened on the first job that asks for previews.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelInfo } from '../models/model-info.ts';
import type { SessionConfig } from '../models/onnx-session.ts';
import { SD_LATENT_RGB, SDXL_LATENT_RGB } from './latent-rgb.ts';
import type { PreviewDecoder } from './step-previewer.ts';
import { TaesdDecoder } from './taesd-decoder.ts';

export const TAESD_PATH = join('vae_approx', 'model.onnx');

export class PreviewDecoders {
  private readonly info: ModelInfo;
  private readonly cfg: SessionConfig;
  /** Set on a LoRA copy's handle: the base's decoders (the base opens and releases them). */
  private readonly source: PreviewDecoders | null;
  private loading: Promise<PreviewDecoder | null> | null = null;

  constructor(info: ModelInfo, cfg: SessionConfig, source?: PreviewDecoders) {
    this.info = info;
    this.cfg = { executionProviders: cfg.executionProviders, intraOpNumThreads: cfg.intraOpNumThreads, log: cfg.log };
    this.source = source ?? null;
  }

  /** A handle on the same decoder (for a pipeline sharing this folder's latent space). */
  shared(): PreviewDecoders {
    return new PreviewDecoders(this.info, this.cfg, this.source ?? this);
  }

  async get(): Promise<PreviewDecoder | null> {
    if (this.source) return await this.source.get();
    this.loading ??= this.open();
    return await this.loading;
  }

  private async open(): Promise<PreviewDecoder | null> {
    const file = join(this.info.dir, TAESD_PATH);
    const has = await access(file).then(() => true, () => false);
    if (has) {
      try {
        const taesd = await TaesdDecoder.open(file, this.cfg);
        this.cfg.log?.(`previews of ${this.info.id}: TAESD decoder ${TAESD_PATH}`);
        return { kind: 'taesd', taesd };
      } catch (err) {
        // A broken preview graph must not fail jobs: fall back to the linear map.
        this.cfg.log?.(`previews of ${this.info.id}: ${TAESD_PATH} unusable (${(err as Error).message}); using the linear latent→RGB map`);
      }
    }
    if (this.info.latentChannels !== 4) return null;
    return { kind: 'linear', factors: this.info.sdxl ? SDXL_LATENT_RGB : SD_LATENT_RGB };
  }

  async release(): Promise<void> {
    if (this.source || !this.loading) return;
    const d = await this.loading.catch(() => null);
    this.loading = null;
    if (d?.kind === 'taesd') await d.taesd.release();
  }
}
