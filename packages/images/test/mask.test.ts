import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeMask, blurMask, applyOverlay, ImageInputError, type RgbImage } from '@sdsvc/images';

const base = { maxPixels: 1e6 };

// 8×8 PNG: left half white (repaint), right half black (keep).
async function halfMask(): Promise<Buffer> {
  const data = Buffer.alloc(64);
  for (let i = 0; i < 64; i++) data[i] = i % 8 < 4 ? 255 : 0;
  return sharp(data, { raw: { width: 8, height: 8, channels: 1 } }).png().toBuffer();
}

test('white = repaint, black = keep; invert flips', async () => {
  const png = await halfMask();
  const m = await decodeMask(png, { ...base, width: 8, height: 8 });
  assert.equal(m.data.length, 64);
  assert.equal(m.data[0], 255);
  assert.equal(m.data[7], 0);
  const inv = await decodeMask(png, { ...base, width: 8, height: 8, invert: true });
  assert.equal(inv.data[0], 0);
  assert.equal(inv.data[7], 255);
});

test('colour masks use luma', async () => {
  const rgb = Buffer.from([255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 255]);
  const png = await sharp(rgb, { raw: { width: 4, height: 1, channels: 3 } }).png().toBuffer();
  const m = await decodeMask(png, { ...base, width: 4, height: 1 });
  assert.deepEqual([...m.data], [255, 76, 0, 29]);
});

test('alpha-only mask (uniform colour): transparent = repaint (OpenAI convention)', async () => {
  const rgba = Buffer.alloc(4 * 4);
  for (let i = 0; i < 4; i++) rgba.set([0, 0, 0, i === 1 ? 0 : 255], i * 4);
  const png = await sharp(rgba, { raw: { width: 4, height: 1, channels: 4 } }).png().toBuffer();
  const m = await decodeMask(png, { ...base, width: 4, height: 1 });
  assert.deepEqual([...m.data], [0, 255, 0, 0]);
});

test('alpha with varied colour: colour decides, alpha ignored', async () => {
  const rgba = Buffer.from([255, 255, 255, 0, 0, 0, 0, 0]);
  const png = await sharp(rgba, { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
  const m = await decodeMask(png, { ...base, width: 2, height: 1 });
  assert.deepEqual([...m.data], [255, 0]);
});

test('mask is fitted like the image; size must match the image', async () => {
  const png = await halfMask();
  const m = await decodeMask(png, { ...base, width: 16, height: 16, resizeMode: 'crop', imageSize: { width: 8, height: 8 } });
  assert.equal(m.width, 16);
  assert.equal(m.data.length, 256);
  assert.equal(m.data[0], 255);
  assert.equal(m.data[15], 0);
  await assert.rejects(
    decodeMask(png, { ...base, width: 16, height: 16, imageSize: { width: 8, height: 9 } }),
    (e: unknown) => e instanceof ImageInputError && e.code === 'mask_size_mismatch',
  );
});

test('mask decoding shares the image checks', async () => {
  await assert.rejects(decodeMask(Buffer.from('nope'), { ...base, width: 8, height: 8 }), (e: unknown) => e instanceof ImageInputError && e.code === 'image_invalid');
  await assert.rejects(decodeMask(await halfMask(), { maxPixels: 10, width: 8, height: 8 }), (e: unknown) => e instanceof ImageInputError && e.code === 'image_too_large');
});

test('blurMask softens the edge symmetrically and leaves far pixels alone', async () => {
  const data = new Uint8Array(32 * 32);
  for (let i = 0; i < data.length; i++) data[i] = i % 32 < 16 ? 255 : 0;
  const mask = { data, width: 32, height: 32 };
  const b = await blurMask(mask, 2);
  assert.equal(b.data.length, 32 * 32, 'the blurred mask stays one channel');
  const row = [...b.data.subarray(16 * 32, 17 * 32)];
  assert.equal(row[0], 255);
  assert.equal(row[31], 0);
  assert.ok(row[15] < 255 && row[15] > 128, `${row[15]}`);
  assert.ok(row[16] > 0 && row[16] < 128, `${row[16]}`);
  assert.ok(Math.abs(row[15] + row[16] - 255) <= 2);
  assert.deepEqual((await blurMask(mask, 0)).data, data);
});

test('overlay: where the mask is 0 the output is the original byte for byte', async () => {
  const w = 32, h = 8;
  const original: RgbImage = { data: new Uint8Array(w * h * 3).map((_, i) => (i * 37) & 255), width: w, height: h };
  const generated: RgbImage = { data: new Uint8Array(w * h * 3).map((_, i) => (i * 91 + 7) & 255), width: w, height: h };
  const hard = new Uint8Array(w * h);
  for (let i = 0; i < hard.length; i++) hard[i] = i % w >= 8 && i % w < 20 ? 255 : 0;
  const blurred = await blurMask({ data: hard, width: w, height: h }, 1.5);
  const out = applyOverlay(generated, original, blurred);
  let kept = 0, taken = 0;
  for (let i = 0; i < w * h; i++) {
    const px = (img: RgbImage) => [...img.data.subarray(i * 3, i * 3 + 3)];
    if (blurred.data[i] === 0) { assert.deepEqual(px(out), px(original)); kept++; }
    if (blurred.data[i] === 255) { assert.deepEqual(px(out), px(generated)); taken++; }
  }
  assert.ok(kept > 0 && taken > 0);
  assert.throws(() => applyOverlay(generated, { ...original, width: 8 }, blurred), RangeError);
});
