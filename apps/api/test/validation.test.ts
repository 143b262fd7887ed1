import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isProblemCode, PROBLEM_CODES } from '@sdsvc/contracts';
import { pngBase64, startHarness, type Harness } from './harness.ts';

let h: Harness;
let png64: string; // 64×64
let png48x32: string;
before(async () => {
  h = await startHarness({ WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}` });
  png64 = await pngBase64(64, 64);
  png48x32 = await pngBase64(48, 32);
});
after(async () => { await h.close(); });

async function post(body: unknown, headers: Record<string, string> = {}) {
  return await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: body as object, headers });
}

/** Each case: body → status, problem code, and (for field problems) the failing path + code. */
const cases: Array<[name: string, body: () => unknown, status: number, code: string, path?: string, fieldCode?: string]> = [
  ['unknown field', () => ({ prompt: 'a', colour: 'red' }), 400, 'validation_failed', 'colour', 'unknown_field'],
  ['prompt required', () => ({}), 400, 'validation_failed', 'prompt', 'required'],
  ['empty prompt', () => ({ prompt: '' }), 400, 'validation_failed', 'prompt', 'too_small'],
  ['bad type', () => ({ prompt: 'a', type: 'video' }), 400, 'validation_failed', 'type', 'invalid_value'],
  ['width not a multiple of 8', () => ({ prompt: 'a', width: 60 }), 400, 'validation_failed', 'width', 'not_multiple_of'],
  ['width above the limit', () => ({ prompt: 'a', width: 4096 }), 400, 'validation_failed', 'width', 'too_big'],
  ['steps zero', () => ({ prompt: 'a', steps: 0 }), 400, 'validation_failed', 'steps', 'too_small'],
  ['steps not an integer', () => ({ prompt: 'a', steps: 2.5 }), 400, 'validation_failed', 'steps', 'invalid_type'],
  ['guidance negative', () => ({ prompt: 'a', guidance_scale: -1 }), 400, 'validation_failed', 'guidance_scale', 'too_small'],
  ['seed above 2^53-1', () => ({ prompt: 'a', seed: 2 ** 53 }), 400, 'validation_failed', 'seed', 'too_big'],
  ['seed negative', () => ({ prompt: 'a', seed: -1 }), 400, 'validation_failed', 'seed', 'too_small'],
  ['num_images above 8', () => ({ prompt: 'a', num_images: 9 }), 400, 'validation_failed', 'num_images', 'too_big'],
  ['bad output_format', () => ({ prompt: 'a', output_format: 'gif' }), 400, 'validation_failed', 'output_format', 'invalid_value'],
  ['output_quality with png', () => ({ prompt: 'a', output_quality: 80 }), 400, 'validation_failed', 'output_quality', 'not_allowed_for_format'],
  ['metadata too big', () => ({ prompt: 'a', metadata: { x: 'y'.repeat(5000) } }), 400, 'validation_failed', 'metadata', 'too_big'],
  ['metadata not an object', () => ({ prompt: 'a', metadata: [1] }), 400, 'validation_failed', 'metadata', 'invalid_type'],
  ['webhook url not a URL', () => ({ prompt: 'a', webhook: { url: 'nope' } }), 400, 'validation_failed', 'webhook.url', 'invalid_format'],
  ['webhook unknown event', () => ({ prompt: 'a', webhook: { url: 'https://example.com/h', events: ['job.exploded'] } }), 400, 'validation_failed', 'webhook.events.0', 'invalid_value'],
  ['webhook to a private address', () => ({ prompt: 'a', webhook: { url: 'https://127.0.0.1/hook' } }), 400, 'url_not_allowed', 'webhook.url', 'url_not_allowed'],
  ['init image required for img2img', () => ({ prompt: 'a', type: 'img2img' }), 400, 'validation_failed', 'init_image', 'required'],
  ['init image required for inpaint', () => ({ prompt: 'a', type: 'inpaint', mask_image: png64 }), 400, 'validation_failed', 'init_image', 'required'],
  ['mask required for inpaint', () => ({ prompt: 'a', type: 'inpaint', init_image: png64 }), 400, 'validation_failed', 'mask_image', 'required'],
  ['mask only for inpaint', () => ({ prompt: 'a', type: 'img2img', init_image: png64, mask_image: png64 }), 400, 'validation_failed', 'mask_image', 'not_allowed_for_type'],
  ['init image not for txt2img', () => ({ prompt: 'a', init_image: png64 }), 400, 'validation_failed', 'init_image', 'not_allowed_for_type'],
  ['strength only img2img/inpaint', () => ({ prompt: 'a', strength: 0.5 }), 400, 'validation_failed', 'strength', 'not_allowed_for_type'],
  ['strength zero', () => ({ prompt: 'a', type: 'img2img', init_image: png64, strength: 0 }), 400, 'validation_failed', 'strength', 'too_small'],
  ['mask_blur only for inpaint', () => ({ prompt: 'a', mask_blur: 4 }), 400, 'validation_failed', 'mask_blur', 'not_allowed_for_type'],
  ['mask_invert only for inpaint', () => ({ prompt: 'a', type: 'img2img', init_image: png64, mask_invert: true }), 400, 'validation_failed', 'mask_invert', 'not_allowed_for_type'],
  ['overlay only for inpaint', () => ({ prompt: 'a', overlay: false }), 400, 'validation_failed', 'overlay', 'not_allowed_for_type'],
  ['reference image not with img2img', () => ({ prompt: 'a', type: 'img2img', init_image: png64, reference_image: png64 }), 400, 'validation_failed', 'reference_image', 'not_allowed_for_type'],
  ['resize_mode without an input image', () => ({ prompt: 'a', resize_mode: 'crop' }), 400, 'validation_failed', 'resize_mode', 'not_allowed_for_type'],
  ['bad resize_mode', () => ({ prompt: 'a', type: 'img2img', init_image: png64, resize_mode: 'squash' }), 400, 'validation_failed', 'resize_mode', 'invalid_value'],
  ['{image} tag without reference_image', () => ({ prompt: 'a {image} cat' }), 400, 'validation_failed', 'reference_image', 'required'],
  ['{image} tag in an img2img job', () => ({ prompt: 'a {image} cat', type: 'img2img', init_image: png64 }), 400, 'validation_failed', 'prompt', 'not_allowed_for_type'],
  ['reference_strength without a reference', () => ({ prompt: 'a', reference_strength: 0.5 }), 400, 'validation_failed', 'reference_strength', 'requires_reference_image'],
  ['two {image} tags', () => ({ prompt: '{image} and {image}', reference_image: png64 }), 400, 'prompt_multiple_image_tags', 'prompt', 'prompt_multiple_image_tags'],
  ['{image} in the negative prompt', () => ({ prompt: 'a', negative_prompt: '{image}' }), 400, 'prompt_image_tag_in_negative', 'negative_prompt', 'prompt_image_tag_in_negative'],
  ['unknown model', () => ({ prompt: 'a', model: 'sd-nope' }), 400, 'unknown_model', 'model', 'unknown_model'],
  ['job type the model cannot run', () => ({ prompt: 'a', model: 'tiny-sd15-inpaint' }), 400, 'unsupported_job_type', 'type', 'unsupported_job_type'],
  ['size off the model grid', () => ({ prompt: 'a', width: 72 }), 400, 'invalid_size', 'width', 'invalid_size'],
  ['unknown scheduler', () => ({ prompt: 'a', scheduler: 'warp_drive' }), 400, 'unknown_scheduler', 'scheduler', 'unknown_scheduler'],
  ['init image not an image', () => ({ prompt: 'a', type: 'img2img', init_image: Buffer.from('hello world').toString('base64') }), 400, 'image_invalid', 'init_image'],
  ['init image not base64', () => ({ prompt: 'a', type: 'img2img', init_image: '%%%' }), 400, 'image_invalid', 'init_image', 'image_invalid'],
  ['init image over the byte limit', () => ({ prompt: 'a', type: 'img2img', init_image: Buffer.alloc(300 * 1024, 1).toString('base64') }), 413, 'image_too_large', 'init_image', 'image_too_large'],
  ['init image URL on a private address', () => ({ prompt: 'a', type: 'img2img', init_image: 'https://10.0.0.1/a.png' }), 400, 'url_not_allowed', 'init_image', 'url_not_allowed'],
  ['init image URL over http', () => ({ prompt: 'a', type: 'img2img', init_image: 'http://example.com/a.png' }), 400, 'url_not_allowed', 'init_image', 'url_not_allowed'],
  ['init image URL that cannot be fetched', () => ({ prompt: 'a', type: 'img2img', init_image: 'https://sdsvc-test.invalid/a.png' }), 400, 'image_fetch_failed', 'init_image', 'image_fetch_failed'],
  ['mask size differs from the image', () => ({ prompt: 'a', type: 'inpaint', init_image: png64, mask_image: png48x32 }), 400, 'mask_size_mismatch', 'mask_image', 'mask_size_mismatch'],
];

describe('POST /v1/jobs validation', () => {
  for (const [name, body, status, code, path, fieldCode] of cases) {
    test(`${name} → ${status} ${code}`, async () => {
      const res = await post(body());
      assert.equal(res.statusCode, status, res.body);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      const problem = res.json();
      assert.equal(problem.code, code);
      assert.equal(problem.status, status);
      assert.ok(isProblemCode(problem.code), `${problem.code} is not in PROBLEM_CODES`);
      assert.equal(PROBLEM_CODES[problem.code as keyof typeof PROBLEM_CODES], status, 'status as in PROBLEM_CODES');
      if (path) {
        const err = problem.errors?.find((e: { path: string }) => e.path === path);
        assert.ok(err, `no error at ${path}: ${res.body}`);
        if (fieldCode) assert.equal(err.code, fieldCode);
      }
      assert.equal(await h.redis.llen('t:bull:generate.tiny-sd15:wait'), 0, 'nothing queued');
    });
  }

  test('webhook without WEBHOOK_SECRET → 400 webhooks_not_configured', async () => {
    const bare = await startHarness();
    try {
      const res = await bare.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a', webhook: { url: 'https://example.com/h' } } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'webhooks_not_configured');
    } finally {
      await bare.close();
    }
  });

  test('malformed JSON → 400 invalid_json', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: '{"prompt":', headers: { 'content-type': 'application/json' } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'invalid_json');
  });

  test('body over MAX_BODY_BYTES → 413 payload_too_large', async () => {
    const res = await post({ prompt: 'a', type: 'img2img', init_image: 'A'.repeat(3 * 1024 * 1024) });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().code, 'payload_too_large');
  });

  test('unsupported content type → 415', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: 'prompt=a', headers: { 'content-type': 'text/plain' } });
    assert.equal(res.statusCode, 415);
    assert.equal(res.json().code, 'unsupported_media_type');
  });

  test('problems carry the request id and no stack', async () => {
    const res = await post({}, { 'x-request-id': 'req-123' });
    assert.equal(res.headers['x-request-id'], 'req-123');
    assert.equal(res.json().request_id, 'req-123');
    assert.doesNotMatch(res.body, /at .*\.ts:\d+/);
  });
});
