/** Loading the recorded diffusers pipeline runs (test/fixtures/parity/pipelines/<case>/). */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { NoiseGenerator } from '../../src/random/noise-generator.ts';
import type { GenerateRequest, MaskImage, RgbImage } from '../../src/pipelines/types.ts';

export const PARITY_DIR = resolve(import.meta.dirname, '../../../../test/fixtures/parity');
export const PIPELINES_DIR = join(PARITY_DIR, 'pipelines');
export const SDXL_DIR = join(PARITY_DIR, 'sdxl');
export const MODELS_DIR = resolve(import.meta.dirname, '../../../../models');

export interface ArrayRef { file: string; dtype: 'float32'; shape: number[] }

type HW = [number, number];

export interface PipelineCase {
  id: string;
  /** Folder of the case set (pipelines/ or sdxl/), added by loadCase. */
  dir?: string;
  kind: 'txt2img' | 'img2img' | 'inpaint';
  model: string;
  inputs: {
    prompt: string; negative_prompt: string | null; height: number; width: number; num_inference_steps: number;
    guidance_scale: number; num_images_per_prompt: number; strength?: number;
    generator: { kind: 'single'; seed: number } | { kind: 'list'; seeds: number[] };
    image?: { file: string }; mask_image?: { file: string };
    // SDXL cases ([h, w] / [top, left], null = default).
    prompt_2?: string | null; negative_prompt_2?: string | null;
    original_size?: HW | null; crops_coords_top_left?: HW | null; target_size?: HW | null;
    negative_original_size?: HW | null; negative_crops_coords_top_left?: HW | null; negative_target_size?: HW | null;
    aesthetic_score?: number; negative_aesthetic_score?: number;
  };
  scheduler: { name: string; class: string; config: Record<string, unknown> };
  text_input_ids: { prompt: number[]; negative_prompt: number[]; prompt_2?: number[]; negative_prompt_2?: number[] };
  prompt_embeds: ArrayRef;
  negative_prompt_embeds: ArrayRef | null;
  pooled_prompt_embeds?: ArrayRef;
  negative_pooled_prompt_embeds?: ArrayRef | null;
  negative_embeds_are_zeros?: boolean;
  add_time_ids?: number[][];
  force_zeros_for_empty_prompt?: boolean;
  do_classifier_free_guidance: boolean;
  timesteps: number[];
  randn_calls: Array<{ index: number; caller: string; shape: number[]; data: ArrayRef }>;
  unet_step0: { sample: ArrayRef; timestep: number; noise_pred: ArrayRef; text_embeds?: ArrayRef; time_ids?: ArrayRef };
  latents_per_step: ArrayRef;
  final_latents: ArrayRef;
  mask_step0?: ArrayRef;
  masked_image_latents_step0?: ArrayRef;
  image: ArrayRef;
  image_png: string[];
}

export function caseIds(dir = PIPELINES_DIR): string[] {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { cases: Array<{ id: string }> };
  return index.cases.map((c) => c.id);
}

export function loadCase(id: string, dir = PIPELINES_DIR): PipelineCase {
  return { ...JSON.parse(readFileSync(join(dir, id, 'case.json'), 'utf8')) as PipelineCase, dir };
}

export function readArray(c: PipelineCase, ref: ArrayRef): Float32Array {
  const buf = readFileSync(join(c.dir ?? PIPELINES_DIR, c.id, ref.file));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export async function readPng(c: PipelineCase, file: string, channels: 1 | 3): Promise<{ data: Uint8Array; width: number; height: number }> {
  let img = sharp(join(c.dir ?? PIPELINES_DIR, c.id, file));
  img = channels === 1 ? img.toColourspace('b-w') : img.removeAlpha().toColourspace('srgb');
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`${file}: ${info.channels} channels, wanted ${channels}`);
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** The engine request equivalent to the case (plain prompt syntax: diffusers semantics). */
export async function requestFor(c: PipelineCase): Promise<GenerateRequest> {
  const i = c.inputs;
  const seed = i.generator.kind === 'single' ? i.generator.seed : i.generator.seeds[0]!;
  const req: GenerateRequest = {
    mode: c.kind, prompt: i.prompt, promptSyntax: 'plain', width: i.width, height: i.height,
    steps: i.num_inference_steps, guidanceScale: i.guidance_scale, scheduler: c.scheduler.name,
    seed, numImages: i.num_images_per_prompt,
  };
  if (i.negative_prompt !== null) req.negativePrompt = i.negative_prompt;
  if (i.strength !== undefined) req.strength = i.strength;
  if (i.image) req.initImage = (await readPng(c, i.image.file, 3)) as RgbImage;
  if (i.mask_image) req.maskImage = (await readPng(c, i.mask_image.file, 1)) as MaskImage;
  const size = (v: HW | null | undefined) => (v ? { height: v[0], width: v[1] } : undefined);
  const crop = (v: HW | null | undefined) => (v ? { top: v[0], left: v[1] } : undefined);
  const sdxl: Partial<GenerateRequest> = {
    prompt2: i.prompt_2 ?? undefined, negativePrompt2: i.negative_prompt_2 ?? undefined,
    originalSize: size(i.original_size), targetSize: size(i.target_size), cropsCoordsTopLeft: crop(i.crops_coords_top_left),
    negativeOriginalSize: size(i.negative_original_size), negativeTargetSize: size(i.negative_target_size),
    negativeCropsCoordsTopLeft: crop(i.negative_crops_coords_top_left),
  };
  for (const [k, v] of Object.entries(sdxl)) if (v !== undefined) (req as unknown as Record<string, unknown>)[k] = v;
  return req;
}

/** Hands back the recorded randn_calls in order, checking each shape. */
export class ReplayNoise implements NoiseGenerator {
  private next = 0;
  private readonly c: PipelineCase;
  constructor(c: PipelineCase) { this.c = c; }
  randn(shape: readonly number[]): Float32Array {
    const call = this.c.randn_calls[this.next];
    if (!call) throw new Error(`${this.c.id}: randn call #${this.next} ${JSON.stringify(shape)} was not recorded`);
    if (call.shape.join() !== shape.join()) {
      throw new Error(`${this.c.id}: randn call #${this.next} shape ${JSON.stringify(shape)}, recorded ${JSON.stringify(call.shape)} (${call.caller})`);
    }
    this.next++;
    return readArray(this.c, call.data);
  }
  rand(): Float32Array { throw new Error('rand is never called by these pipelines'); }
  get used(): number { return this.next; }
}

/** max |a − b| / max |b|. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let mag = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    mag = Math.max(mag, Math.abs(b[i]!));
  }
  return diff / (mag || 1);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}
