// storeOutputs with SAFETY_MODE and WATERMARK, on real checker verdicts and a file store: flagged
// images are marked, blurred or not stored; a job whose images are all blocked fails content_blocked;
// the watermark is in what is stored.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { JobParams } from '@sdsvc/contracts';
import type { GenerateResult } from '@sdsvc/engine';
import { detectWatermark, parseWatermarkPayload, formatWatermarkBits } from '@sdsvc/images';
import { FileObjectStore } from '@sdsvc/storage';
import { ImageSafety } from '../src/image-safety.ts';
import { JobFailure } from '../src/job-errors.ts';
import { storeOutputs } from '../src/job-outputs.ts';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/parity/safety_checker/', import.meta.url));
const CHECKER = fileURLToPath(new URL('../../../test/fixtures/models/tiny-safety-checker', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'sdsvc-outputs-'));
const objects = await FileObjectStore.open({ root: dir, publicBaseUrl: 'http://x.test', secret: 'test-secret-0123456789' });
const checkers: ImageSafety[] = [];
after(async () => {
  for (const c of checkers) await c.close();
  await objects.close();
  await rm(dir, { recursive: true, force: true });
});

async function image(file: string, seed: number) {
  const { data, info } = await sharp(`${FIXTURES}${file}`).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, seed };
}
// The tiny checker flags noise_64 and passes flat_red_64 (fixture index).
const result = { images: [await image('noise_64.png', 1), await image('flat_red_64.png', 2)] } as unknown as GenerateResult;
const params = { prompt: 'x', prompt_raw: 'x', negative_prompt: '', weights: { prompt: [], negative_prompt: [] }, width: 64, height: 64, steps: 1,
  guidance_scale: 7, scheduler: 'default', seed: 1, num_images: 2, output_format: 'png' } as JobParams;
const safety = (mode: 'flag' | 'blur' | 'block') => {
  const s = new ImageSafety({ modelsDir: dir, checkerModel: CHECKER, mode });
  checkers.push(s);
  return s;
};

test('flag: both stored, the flagged one says nsfw', async () => {
  const out = await storeOutputs(result, { jobId: 'flag', model: 'm', params, safety: safety('flag') }, objects);
  assert.deepEqual(out.map((i) => i.nsfw ?? false), [true, false]);
  assert.ok(out.every((i) => i.key !== null && i.bytes > 0));
});

test('blur: the flagged image is stored blurred', async () => {
  const out = await storeOutputs(result, { jobId: 'blur', model: 'm', params, safety: safety('blur') }, objects);
  const stored = new Uint8Array(await sharp(await objects.get(out[0]!.key!)).raw().toBuffer());
  assert.equal(out[0]!.nsfw, true);
  assert.notDeepEqual(stored, result.images[0]!.data);
});

test('block: nothing is stored for the flagged image; all blocked fails content_blocked', async () => {
  const out = await storeOutputs(result, { jobId: 'block', model: 'm', params, safety: safety('block') }, objects);
  assert.deepEqual(out[0], { key: null, width: 64, height: 64, seed: 1, content_type: 'image/png', bytes: 0, nsfw: true, blocked: true });
  assert.deepEqual(await objects.list('block'), [out[1]!.key]);
  const onlyFlagged = { images: [result.images[0]] } as unknown as GenerateResult;
  await assert.rejects(storeOutputs(onlyFlagged, { jobId: 'block2', model: 'm', params: { ...params, num_images: 1 }, safety: safety('block') }, objects),
    (e: unknown) => e instanceof JobFailure && e.code === 'content_blocked' && !e.retryable);
});

test('safety: false (an exempt key) skips the checker', async () => {
  const out = await storeOutputs(result, { jobId: 'exempt', model: 'm', params: { ...params, safety: false }, safety: safety('block') }, objects);
  assert.ok(out.every((i) => !i.blocked && i.key !== null));
});

test('the watermark is in the stored image', async () => {
  // A picture-like image: smooth shading with a little texture (flat noise or clipped pixels carry
  // the mark less well, as with the reference library).
  const pixels = new Uint8Array(240 * 232 * 3);
  for (let y = 0; y < 232; y++) for (let x = 0; x < 240; x++) {
    const o = (y * 240 + x) * 3;
    pixels[o] = 40 + x * 0.7 + ((x * y) % 13);
    pixels[o + 1] = 40 + y * 0.7 + ((x + 3 * y) % 11);
    pixels[o + 2] = 128 + 60 * Math.sin(x / 9) * Math.cos(y / 7);
  }
  const big = { images: [{ data: pixels, width: 240, height: 232, seed: 3 }] } as unknown as GenerateResult;
  const payload = parseWatermarkPayload('sdsvc');
  const out = await storeOutputs(big, { jobId: 'wm', model: 'm', params: { ...params, width: 240, height: 232, num_images: 1 }, watermark: payload.bits }, objects);
  const { data, info } = await sharp(await objects.get(out[0]!.key!)).raw().toBuffer({ resolveWithObject: true });
  assert.equal(formatWatermarkBits(detectWatermark({ data: new Uint8Array(data), width: info.width, height: info.height }, payload.bits.length), 'text'), 'sdsvc');
});
