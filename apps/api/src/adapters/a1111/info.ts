// The `info` JSON string of a txt2img / img2img answer, with A1111's fields. `infotexts` are read
// back from each PNG's `parameters` chunk, so they are the same text byte for byte.
import { readPngText } from '@sdsvc/images';
import type { JobRecord } from '@sdsvc/jobs';
import type { A1111Img2ImgRequest, A1111Txt2ImgRequest } from '@sdsvc/contracts';
import type { ResolvedSampler } from './samplers.ts';

export interface InfoImage { rec: JobRecord; seed: number; width: number; height: number; bytes: Buffer }

export function infoJson(req: A1111Txt2ImgRequest | A1111Img2ImgRequest, opts: {
  images: InfoImage[]; records: JobRecord[]; seed: number; sampler: ResolvedSampler; modelId: string; modelHash: string | null; timestamp: string;
}): string {
  const { images, records } = opts;
  const first = records[0];
  const params = first?.params;
  const count = req.batch_size * req.n_iter;
  const seeds = images.length > 0 ? images.map((i) => i.seed) : Array.from({ length: count }, (_, i) => opts.seed + i);
  const subseed = req.subseed;
  const negative = params?.negative_prompt ?? req.negative_prompt ?? '';
  const inpaint = params?.inputs?.mask_image !== undefined;
  return JSON.stringify({
    prompt: req.prompt,
    all_prompts: seeds.map(() => req.prompt),
    negative_prompt: negative,
    all_negative_prompts: seeds.map(() => negative),
    seed: seeds[0] ?? opts.seed,
    all_seeds: seeds,
    subseed,
    all_subseeds: seeds.map(() => subseed),
    subseed_strength: 0,
    width: images[0]?.width ?? params?.width ?? req.width,
    height: images[0]?.height ?? params?.height ?? req.height,
    sampler_name: opts.sampler.samplerName,
    scheduler: opts.sampler.schedule,
    cfg_scale: req.cfg_scale,
    steps: req.steps,
    batch_size: req.batch_size,
    restore_faces: false,
    face_restoration_model: null,
    sd_model_name: opts.modelId,
    sd_model_hash: opts.modelHash,
    sd_vae_name: null,
    sd_vae_hash: null,
    seed_resize_from_w: -1,
    seed_resize_from_h: -1,
    denoising_strength: params?.strength ?? req.denoising_strength ?? 0,
    extra_generation_params: {},
    index_of_first_image: 0,
    infotexts: images.map((i) => readPngText(i.bytes).parameters ?? ''),
    styles: [],
    job_timestamp: opts.timestamp,
    clip_skip: 1,
    is_using_inpainting_conditioning: inpaint,
    version: 'sdsvc',
  });
}
