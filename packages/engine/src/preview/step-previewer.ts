/**
 * Live previews of one job: every `everySteps` denoising steps (step k, 2k, …, counted as onStep
 * counts them) the first image of the group being denoised, decoded by the model folder's TAESD
 * graph when it has one (8h × 8w), else by the linear latent→RGB map (h × w). Previews only read
 * the step's tensors: the job's result is the same with or without them.
 */
import type { RgbImage } from '../pipelines/types.ts';
import { latentsToRgb, type LatentRgbFactors } from './latent-rgb.ts';
import { previewLatents, type StepTensors } from './preview-latents.ts';
import type { TaesdDecoder } from './taesd-decoder.ts';

export interface PreviewImage extends RgbImage {
  step: number;
  total: number;
  /** x0: the predicted clean image; latents: the current noisy latents (schedulers that cannot tell x0). */
  source: 'x0' | 'latents';
  decoder: 'taesd' | 'linear';
}

export interface PreviewOptions {
  /** A preview after every k-th step (≥ 1). */
  everySteps: number;
  onPreview: (preview: PreviewImage) => void;
  /** A preview failed (the job goes on; no more previews for it). */
  onError?: (err: Error) => void;
}

export type PreviewDecoder = { kind: 'taesd'; taesd: TaesdDecoder } | { kind: 'linear'; factors: LatentRgbFactors };

export class StepPreviewer {
  private readonly decoder: PreviewDecoder;
  private readonly opts: PreviewOptions;
  private failed = false;

  constructor(decoder: PreviewDecoder, opts: PreviewOptions) {
    if (!(Number.isInteger(opts.everySteps) && opts.everySteps >= 1)) throw new RangeError(`preview everySteps must be an integer ≥ 1 (got ${opts.everySteps})`);
    this.decoder = decoder;
    this.opts = opts;
  }

  due(step: number): boolean {
    return step % this.opts.everySteps === 0;
  }

  /** After step `step` of `total`: a preview when one is due. `dims` are the latents' [batch, c, h, w]. */
  async afterStep(step: number, total: number, dims: readonly number[], tensors: Omit<StepTensors, 'perImage'>): Promise<void> {
    if (this.failed || !this.due(step)) return;
    const [, c, h, w] = dims as [number, number, number, number];
    try {
      const { latents, source } = previewLatents({ ...tensors, perImage: c * h * w });
      const image = this.decoder.kind === 'taesd'
        ? await this.decoder.taesd.decode(latents, c, h, w)
        : latentsToRgb(latents, h, w, this.decoder.factors);
      this.opts.onPreview({ ...image, step, total, source, decoder: this.decoder.kind });
    } catch (err) {
      // A preview is never worth failing the job for.
      this.failed = true;
      this.opts.onError?.(err as Error);
    }
  }
}
