// SDXL through the API: the model is listed as kind sdxl, its fields are accepted and echoed in
// params with the SDXL defaults, an absent negative prompt stays absent (distinct from ""), and
// the SDXL-only fields on another model are a 400 naming each field.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pngBase64, startHarness, type Harness } from './harness.ts';

let h: Harness;
let png64: string;
before(async () => {
  h = await startHarness();
  png64 = await pngBase64(64, 64);
});
after(async () => { await h.close(); });

const submit = (payload: object) => h.app.inject({ method: 'POST', url: '/v1/jobs', payload });

test('GET /v1/models lists tiny-sdxl as kind sdxl with its size and capabilities', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/v1/models' });
  assert.equal(res.statusCode, 200, res.body);
  const xl = res.json().data.find((m: { id: string }) => m.id === 'tiny-sdxl');
  assert.ok(xl, 'tiny-sdxl listed');
  assert.equal(xl.kind, 'sdxl');
  assert.deepEqual(xl.capabilities, ['txt2img', 'img2img', 'inpaint']);
  assert.deepEqual(xl.native_size, { width: 64, height: 64 });
  assert.equal(xl.size_step, 16);
});

test('SDXL fields are echoed in params with the defaults filled in; no negative prompt stays absent', async () => {
  const res = await submit({
    model: 'tiny-sdxl', prompt: 'a cabin', prompt_2: 'snowy woods (-people)', width: 96, height: 64,
    original_size: { width: 512, height: 384 }, crops_coords_top_left: { top: 16, left: 32 },
    negative_original_size: { width: 256, height: 256 }, negative_target_size: { width: 96, height: 64 },
  });
  assert.equal(res.statusCode, 202, res.body);
  const p = res.json().params;
  assert.equal(p.prompt_2, 'snowy woods');
  assert.equal(p.negative_prompt_2, 'people', 'inline negatives of prompt_2 go to negative_prompt_2');
  assert.ok(!('negative_prompt' in p), 'no negative prompt: absent, not ""');
  assert.deepEqual(p.original_size, { width: 512, height: 384 });
  assert.deepEqual(p.target_size, { width: 96, height: 64 }, 'target size defaults to the output size');
  assert.deepEqual(p.crops_coords_top_left, { top: 16, left: 32 });
  assert.deepEqual(p.negative_original_size, { width: 256, height: 256 });
  assert.deepEqual(p.negative_target_size, { width: 96, height: 64 });
  assert.equal(p.aesthetic_score, undefined, 'only refiner-style models take aesthetic scores');

  const empty = await submit({ model: 'tiny-sdxl', prompt: 'a cabin', negative_prompt: '' });
  assert.equal(empty.statusCode, 202, empty.body);
  assert.equal(empty.json().params.negative_prompt, '', 'an explicit "" is kept');
  assert.deepEqual(empty.json().params.original_size, { width: 64, height: 64 });
  assert.deepEqual(empty.json().params.crops_coords_top_left, { top: 0, left: 0 });
});

test('SDXL img2img and inpaint default to strength 0.3 and 0.9999', async () => {
  const i2i = await submit({ model: 'tiny-sdxl', type: 'img2img', prompt: 'a cabin', init_image: png64 });
  assert.equal(i2i.statusCode, 202, i2i.body);
  assert.equal(i2i.json().params.strength, 0.3);
  const inp = await submit({ model: 'tiny-sdxl', type: 'inpaint', prompt: 'a cabin', init_image: png64, mask_image: png64 });
  assert.equal(inp.statusCode, 202, inp.body);
  assert.equal(inp.json().params.strength, 0.9999);
  const sd = await submit({ type: 'img2img', prompt: 'a cabin', init_image: png64 });
  assert.equal(sd.json().params.strength, 0.75, 'SD 1.x keeps the API default');
});

test('SDXL-only fields on an SD 1.x model: 400 naming each field', async () => {
  const res = await submit({ model: 'tiny-sd15', prompt: 'a cabin', prompt_2: 'woods', target_size: { width: 64, height: 64 } });
  assert.equal(res.statusCode, 400, res.body);
  const p = res.json();
  assert.equal(p.code, 'validation_failed');
  assert.deepEqual(p.errors.map((e: { path: string; code: string }) => [e.path, e.code]), [['prompt_2', 'not_allowed_for_model'], ['target_size', 'not_allowed_for_model']]);
  assert.match(p.errors[0].message, /only accepted for SDXL models/);
});

test('bad SDXL field values are validation errors', async () => {
  const res = await submit({ model: 'tiny-sdxl', prompt: 'a', original_size: { width: 0, height: 64 }, crops_coords_top_left: { top: -1, left: 0 } });
  assert.equal(res.statusCode, 400, res.body);
  const paths = res.json().errors.map((e: { path: string }) => e.path).sort();
  assert.deepEqual(paths, ['crops_coords_top_left.top', 'original_size.width']);
});
