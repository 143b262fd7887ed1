// inpaint_full_res through the worker's input and output stages, with a real file object store and
// real sharp images: the engine sees the crop at width × height, the stored PNG is the original
// with the generated region pasted back.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { JobParams } from '@sdsvc/contracts';
import { readPngText } from '@sdsvc/images';
import { FileObjectStore } from '@sdsvc/storage';
import { buildGenerateRequest } from '../src/generate-request.ts';
import { loadJobInputs } from '../src/job-inputs.ts';
import { storeOutputs } from '../src/job-outputs.ts';

const W = 96, H = 64; // the init image; the generation is 64×64
const MASK = { x1: 60, y1: 20, x2: 76, y2: 36 }; // white square, repaint
let root: string;
let store: FileObjectStore;
let original: Buffer; // raw RGB of the init image

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'full-res-'));
  store = await FileObjectStore.open({ root, publicBaseUrl: 'http://localhost' });
  original = Buffer.alloc(W * H * 3);
  for (let i = 0; i < original.length; i++) original[i] = (i * 37 + (i >> 5)) & 255;
  await store.put('t/in/init.png', await sharp(original, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer(), 'image/png');
  const mask = Buffer.alloc(W * H);
  for (let y = MASK.y1; y < MASK.y2; y++) for (let x = MASK.x1; x < MASK.x2; x++) mask[y * W + x] = 255;
  await store.put('t/in/mask.png', await sharp(mask, { raw: { width: W, height: H, channels: 1 } }).png().toBuffer(), 'image/png');
  await store.put('t/in/blank.png', await sharp(Buffer.alloc(W * H), { raw: { width: W, height: H, channels: 1 } }).png().toBuffer(), 'image/png');
});
after(async () => {
  await store?.close();
  await rm(root, { recursive: true, force: true });
});

function params(over: Partial<JobParams> = {}): JobParams {
  return {
    prompt: 'x', prompt_raw: 'x', negative_prompt: '', weights: { prompt: [], negative_prompt: [] },
    width: 64, height: 64, steps: 2, guidance_scale: 7, scheduler: 'euler', seed: 1, num_images: 1, output_format: 'png',
    strength: 1, mask_blur: 2, mask_invert: false, overlay: true, resize_mode: 'resize',
    inpaint_full_res: true, inpaint_full_res_padding: 8,
    inputs: { init_image: { key: 't/in/init.png', width: W, height: H }, mask_image: { key: 't/in/mask.png', width: W, height: H } },
    ...over,
  };
}

const limits = { maxPixels: 1e6 };
/** What the engine would return: a flat colour at the generation size. */
const generated = (v: number) => ({ images: [{ data: new Uint8Array(64 * 64 * 3).fill(v), width: 64, height: 64, seed: 1 }] });

async function stored(key: string): Promise<{ raw: Buffer; width: number; height: number; png: Buffer }> {
  const png = await store.get(key);
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { raw: data, width: info.width, height: info.height, png };
}

test('the engine gets the padded, squared crop at width × height; the output is the original with the region pasted back', async () => {
  const p = params();
  const inputs = await loadJobInputs('inpaint', p, store, limits);
  const full = inputs.fullRes!;
  assert.ok(full, 'crop applied');
  // Blurred mask box (σ 2 spreads a few px) + 8 padding, grown to square, inside the image.
  const { region } = full;
  assert.equal(region.x2 - region.x1, region.y2 - region.y1, JSON.stringify(region));
  assert.ok(region.x1 <= MASK.x1 - 8 && region.x2 >= MASK.x2 + 8 && region.x2 <= W, JSON.stringify(region));
  assert.ok(region.x1 > 0, 'the region does not reach the left of the image');
  assert.deepEqual([inputs.init!.width, inputs.init!.height, inputs.mask!.width, inputs.mask!.height], [64, 64, 64, 64]);
  assert.equal(inputs.mask!.data.length, 64 * 64);
  assert.equal(inputs.mask!.data[32 * 64 + 32], 255, 'mask centre repaints');
  assert.equal(inputs.mask!.data[0], 0, 'crop corner keeps');
  const request = buildGenerateRequest('inpaint', p, inputs);
  assert.equal(request.initImage, inputs.init);
  assert.equal(request.maskImage, inputs.mask);

  const [img] = await storeOutputs(generated(7), {
    jobId: 'job-1', model: 'm', params: p,
    fullRes: { original: full.original, region, mask: full.mask, padding: full.padding },
  }, store);
  assert.deepEqual([img.width, img.height], [W, H], 'the original size comes back');
  const out = await stored(img.key!);
  let kept = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      const m = full.mask.data[y * W + x];
      const inside = x >= region.x1 && x < region.x2 && y >= region.y1 && y < region.y2;
      if (!inside || m === 0) {
        kept++;
        assert.deepEqual([...out.raw.subarray(i, i + 3)], [...original.subarray(i, i + 3)], `pixel ${x},${y} kept`);
      } else if (m === 255) {
        assert.deepEqual([...out.raw.subarray(i, i + 3)], [7, 7, 7], `pixel ${x},${y} generated`);
      }
    }
  }
  assert.ok(kept > W * H * 0.8);
  const text = readPngText(out.png).parameters ?? '';
  assert.match(text, /Inpaint area: Only masked, Masked area padding: 8/);
  assert.match(text, /Size: 64x64/);
});

test('overlay off: the whole region is replaced, nothing outside it', async () => {
  const p = params({ overlay: false });
  const inputs = await loadJobInputs('inpaint', p, store, limits);
  const { region, original: orig } = inputs.fullRes!;
  const [img] = await storeOutputs(generated(200), { jobId: 'job-2', model: 'm', params: p, fullRes: { original: orig, region, padding: 8 } }, store);
  const out = await stored(img.key!);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      const inside = x >= region.x1 && x < region.x2 && y >= region.y1 && y < region.y2;
      assert.deepEqual([...out.raw.subarray(i, i + 3)], inside ? [200, 200, 200] : [...original.subarray(i, i + 3)], `pixel ${x},${y}`);
    }
  }
});

test('a blank mask falls back to inpainting the whole (fitted) image, as A1111 does', async () => {
  const p = params({ inputs: { init_image: { key: 't/in/init.png', width: W, height: H }, mask_image: { key: 't/in/blank.png', width: W, height: H } } });
  const inputs = await loadJobInputs('inpaint', p, store, limits);
  assert.equal(inputs.fullRes, undefined);
  assert.deepEqual([inputs.init!.width, inputs.init!.height, inputs.mask!.width], [64, 64, 64]);
});

test('without inpaint_full_res nothing changes: fitted to width × height, no crop', async () => {
  const inputs = await loadJobInputs('inpaint', params({ inpaint_full_res: false, inpaint_full_res_padding: undefined }), store, limits);
  assert.equal(inputs.fullRes, undefined);
  assert.deepEqual([inputs.init!.width, inputs.mask!.width, inputs.mask!.data.length], [64, 64, 64 * 64]);
});
