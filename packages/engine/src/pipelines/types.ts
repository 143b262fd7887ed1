/** The engine's request/response shapes (see docs/ARCHITECTURE.md). */
import type { NoiseGenerator } from '../random/noise-generator.ts';
import type { Latents } from '../tensor.ts';
import type { PreviewOptions } from '../preview/step-previewer.ts';

export type GenerateMode = 'txt2img' | 'img2img' | 'inpaint';

export interface RgbImage {
  /** HWC RGB, 8 bits per channel. */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface MaskImage {
  /** HW gray; ≥ 128 repaints, < 128 keeps (diffusers binarises at 0.5). */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface ImageSize {
  width: number;
  height: number;
}

export interface CropCoords {
  top: number;
  left: number;
}

export interface GenerateRequest {
  mode: GenerateMode;
  prompt: string;
  /** Absent means no negative prompt, which differs from "" on SDXL (zero negative embeddings). */
  negativePrompt?: string;
  promptSyntax?: 'plain' | 'a1111';
  /** Animation prompt interpolation: blend this prompt's conditioning in with `weight` (0…1). */
  promptBlend?: { prompt: string; negativePrompt?: string; weight: number };
  width: number;
  height: number;
  steps: number;
  guidanceScale: number;
  /** A stable scheduler name, a diffusers class name, or 'default' / absent for the model's own. */
  scheduler?: string;
  /** Image i uses seed + i with its own generator. */
  seed: number;
  numImages: number;
  /** LoRAs merged into the text encoder and UNet for this job (applied by the engine thread; see EngineLora). */
  loras?: EngineLora[];
  /** img2img / inpaint; absent: 1 (SD), or the SDXL pipelines' 0.3 / 0.9999. */
  strength?: number;
  initImage?: RgbImage;
  maskImage?: MaskImage;
  // SDXL only (a RangeError naming the field on other models); see sdxl-time-ids.ts.
  /** Text for text_encoder_2 (default: prompt). */
  prompt2?: string;
  /** Negative text for text_encoder_2 (default: negativePrompt). */
  negativePrompt2?: string;
  originalSize?: ImageSize;
  targetSize?: ImageSize;
  cropsCoordsTopLeft?: CropCoords;
  negativeOriginalSize?: ImageSize;
  negativeTargetSize?: ImageSize;
  negativeCropsCoordsTopLeft?: CropCoords;
  /** Refiner-style models (requires_aesthetics_score): default 6.0 / 2.5. */
  aestheticScore?: number;
  negativeAestheticScore?: number;
}

/** The GenerateRequest fields only SDXL models take. */
export const SDXL_REQUEST_FIELDS = [
  'prompt2', 'negativePrompt2', 'originalSize', 'targetSize', 'cropsCoordsTopLeft',
  'negativeOriginalSize', 'negativeTargetSize', 'negativeCropsCoordsTopLeft', 'aestheticScore', 'negativeAestheticScore',
] as const satisfies ReadonlyArray<keyof GenerateRequest>;

/** One LoRA of a job: the file (already resolved below LORA_DIR), its sha256 (the cache key) and scale. */
export interface EngineLora {
  name: string;
  file: string;
  sha256: string;
  scale: number;
}

export interface GenerateResult {
  images: Array<RgbImage & { seed: number }>;
}

export interface GenerateOptions {
  /**
   * After every UNet step. A job whose images are denoised in several groups (large latents, see
   * PipelineLoadOptions.maxUnetBatchElements) counts steps across groups: total = groups × steps,
   * and `latents` are the current group's.
   */
  onStep?: (step: number, total: number, latents?: Latents) => void;
  /** Checked between steps, between image groups and between the VAE calls of single images. */
  signal?: AbortSignal;
  /** Called at each of those checkpoints just before the signal is read (the engine thread turns its shared cancel flag into an abort here). */
  poll?: () => void;
  /** Tests: one source for every draw, in diffusers' order (replaces the per-image generators). */
  noise?: NoiseGenerator;
  /**
   * Live previews: every `everySteps` steps a small RGB image of the first image of the group being
   * denoised (preview/step-previewer.ts). Reads the step's tensors only: the result does not change.
   */
  preview?: PreviewOptions;
  /** Tests: called with named intermediate tensors (text embeddings, first UNet call, latents per step). */
  probe?: (name: string, data: Float32Array, dims: readonly number[]) => void;
}
