import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateJobRequest, fieldErrors } from '../src/index.ts';

const errors = (body: unknown) => {
  const r = CreateJobRequest.safeParse(body);
  return r.success ? [] : fieldErrors(r.error, body).map((e) => `${e.path}:${e.code}`);
};

test('defaults fill a minimal txt2img request', () => {
  const r = CreateJobRequest.parse({ prompt: 'a cat' });
  assert.equal(r.type, 'txt2img');
  assert.equal(r.num_images, 1);
  assert.equal(r.output_format, 'png');
});

test('field errors carry dotted paths and stable codes', () => {
  assert.deepEqual(errors({ prompt: 'x', bogus: 1 }), ['bogus:unknown_field']);
  assert.deepEqual(errors({}), ['prompt:required']);
  assert.deepEqual(errors({ prompt: 3 }), ['prompt:invalid_type']);
  assert.deepEqual(errors({ prompt: 'x', seed: 2 ** 53 }), ['seed:too_big']);
  assert.deepEqual(errors({ prompt: 'x', seed: -1 }), ['seed:too_small']);
  assert.deepEqual(errors({ prompt: 'x', webhook: { url: 'nope' } }), ['webhook.url:invalid_format']);
  assert.deepEqual(errors({ prompt: 'x', type: 'inpaint', init_image: 'a' }), ['mask_image:required']);
  assert.deepEqual(errors({ prompt: 'x', mask_image: 'a' }), ['mask_image:not_allowed_for_type']);
  assert.deepEqual(errors({ prompt: 'x', metadata: { a: 'x'.repeat(5000) } }), ['metadata:too_big']);
});
