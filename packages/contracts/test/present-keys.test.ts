// createJobRequestParser (the submission path's) against the full CreateJobRequest schema: the same
// success, output (values and key order) and issues for every body, valid or not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { CREATE_JOB_FIELDS, CreateJobRequest, createJobRequestParser, presentKeysParser } from '../src/index.ts';

const same = (body: unknown) => {
  const full = CreateJobRequest.safeParse(body);
  const fast = createJobRequestParser.safeParse(body);
  assert.equal(fast.success, full.success, JSON.stringify(body));
  if (full.success) {
    assert.deepEqual(fast.data, full.data);
    assert.deepEqual(Object.keys(fast.data!), Object.keys(full.data), 'same key order');
  } else {
    assert.deepEqual(fast.error!.issues, full.error.issues, JSON.stringify(body));
  }
};

const png = 'iVBORw0KGgo=';
const BODIES: unknown[] = [
  { prompt: 'a cat' },
  { type: 'txt2img', prompt: 'a lighthouse at dusk, (oil painting:1.2)', width: 64, height: 64, steps: 4, seed: 42 },
  { seed: 42, steps: 4, prompt: 'keys in another order', height: 64, width: 64, type: 'txt2img' },
  { prompt: 'x', negative_prompt: '', guidance_scale: 0, num_images: 8, output_format: 'webp', output_quality: 80 },
  { prompt: 'x', type: 'img2img', init_image: png, strength: 0.5, resize_mode: 'crop' },
  { prompt: 'x', type: 'inpaint', init_image: png, mask_image: png, mask_blur: 8, mask_invert: true, overlay: false, inpaint_full_res: true, inpaint_full_res_padding: 16 },
  { prompt: 'x {image}', reference_image: png, reference_strength: 0.4, resize_mode: 'fill' },
  { prompt: 'x', webhook: { url: 'https://example.com/hook', events: ['job.succeeded'] }, metadata: { user: 'u1', n: [1, { a: null }] } },
  { prompt: 'x', preview: {}, loras: [{ name: 'style', scale: 0.5 }], safety: false, model: 'tiny-sd15', scheduler: 'euler_a' },
  { prompt: 'x', prompt_2: 'y', original_size: { width: 1024, height: 1024 }, crops_coords_top_left: { top: 0, left: 0 }, aesthetic_score: 6 },
  { prompt: 'x', negative_prompt: undefined, seed: undefined }, // present keys without a value (adapters build such objects)
  // Invalid: field errors, cross-field rules, required fields, unknown keys, wrong shapes.
  {},
  { prompt: '' },
  { prompt: 3, width: 65, height: 'x', steps: 0 },
  { prompt: 'x', seed: 2 ** 53 },
  { prompt: 'x', webhook: { url: 'nope' } },
  { prompt: 'x', type: 'inpaint', init_image: png },
  { prompt: 'x', mask_image: png },
  { prompt: 'x', type: 'img2img', init_image: png, reference_image: png },
  { prompt: 'x', output_quality: 50 },
  { prompt: 'x', resize_mode: 'crop' },
  { prompt: 'x', metadata: { a: 'x'.repeat(5000) } },
  { prompt: 'x', bogus: 1 },
  { bogus: 1 },
  { prompt: 'x', __proto__: { polluted: true } },
  JSON.parse('{"prompt":"x","__proto__":{"polluted":true}}'),
  { prompt: 'x', constructor: 1, toString: 2 },
  null, undefined, 'prompt', 42, [], [{ prompt: 'x' }], new Map([['prompt', 'x']]), Object.create(null),
];

test('the present-keys parser answers exactly as the full schema: valid bodies, invalid ones, odd inputs', () => {
  for (const body of BODIES) {
    same(body);
    same(body); // the second time from the cached schema of its key set
  }
});

test('every field, alone and with each other field, answers as the full schema', () => {
  const sample: Record<string, unknown> = {
    type: 'img2img', model: 'm', negative_prompt: 'n', prompt_2: 'p', negative_prompt_2: 'q', original_size: { width: 8, height: 8 },
    target_size: { width: 8, height: 8 }, crops_coords_top_left: { top: 1, left: 1 }, negative_original_size: { width: 8, height: 8 },
    negative_target_size: { width: 8, height: 8 }, negative_crops_coords_top_left: { top: 0, left: 0 }, aesthetic_score: 5,
    negative_aesthetic_score: 2, width: 512, height: 512, steps: 30, guidance_scale: 5, scheduler: 'ddim', seed: 7, num_images: 2,
    loras: [{ name: 'a', scale: 1 }], strength: 0.3, init_image: png, mask_image: png, reference_image: png, reference_strength: 0.5,
    resize_mode: 'fill', mask_blur: 2, mask_invert: false, overlay: true, inpaint_full_res: false, inpaint_full_res_padding: 4,
    output_format: 'jpeg', output_quality: 70, webhook: { url: 'https://example.com/h' }, preview: { every_steps: 2 }, safety: true,
    metadata: { k: 'v' },
  };
  const fields = Object.keys(sample);
  assert.deepEqual(new Set(fields), new Set(CREATE_JOB_FIELDS.filter((f) => f !== 'prompt')), 'the sample has every field');
  for (const f of fields) {
    same({ prompt: 'x', [f]: sample[f] });
    same({ prompt: 'x', [f]: 'not-the-right-type' });
    for (const g of fields) same({ prompt: 'x', [f]: sample[f], [g]: sample[g] });
  }
});

test('past maxKeySets new key sets go to the full schema (the cache stays bounded), with the same answers', () => {
  const Base = z.strictObject({ a: z.string(), b: z.int().optional(), c: z.int().optional(), d: z.int().default(4) });
  const refine = (v: z.output<typeof Base>, ctx: z.core.$RefinementCtx<z.output<typeof Base>>) => {
    if (v.b !== undefined && v.c !== undefined) ctx.addIssue({ code: 'custom', path: ['c'], message: 'b or c' });
  };
  const full = Base.superRefine(refine);
  const parser = presentKeysParser(Base, refine, full, 2);
  const bodies = [{ a: 'x' }, { a: 'x', b: 1 }, { a: 'x', c: 2 }, { a: 'x', b: 1, c: 2 }, { a: 1, d: 'no' }, { a: 'x', e: 1 }];
  for (const body of bodies) assert.deepEqual(parser.safeParse(body), full.safeParse(body));
  assert.equal(parser.keySets, 2);
});
