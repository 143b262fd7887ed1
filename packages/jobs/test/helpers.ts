import type { JobParams } from '@sdsvc/contracts';
import type { NewJobRecord } from '../src/index.ts';

export function params(over: Partial<JobParams> = {}): JobParams {
  return {
    prompt: 'a cat', prompt_raw: 'a cat', negative_prompt: '', weights: { prompt: [{ text: 'a cat', weight: 1 }], negative_prompt: [] },
    width: 64, height: 64, steps: 4, guidance_scale: 7.5, scheduler: 'pndm', seed: 42, num_images: 1, output_format: 'png', ...over,
  };
}

export function newRecord(id: string, over: Partial<NewJobRecord> = {}): NewJobRecord {
  return { id, type: 'txt2img', model: 'tiny-sd15', params: params(), ...over };
}
