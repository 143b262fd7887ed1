import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp, { type Sharp } from 'sharp';
import { decodeInputImage, ImageInputError } from '@sdsvc/images';

const limits = { maxPixels: 4096 * 4096, maxBytes: 20 * 1024 * 1024 };

// 40×20: left half red, right half blue.
async function halves(): Promise<Sharp> {
  const w = 40, h = 20;
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = (y * w + x) * 3;
    if (x < w / 2) data[o] = 255; else data[o + 2] = 255;
  }
  return sharp(data, { raw: { width: w, height: h, channels: 3 } });
}

function pixel(img: { data: Uint8Array; width: number }, x: number, y: number): number[] {
  const o = (y * img.width + x) * 3;
  return [img.data[o], img.data[o + 1], img.data[o + 2]];
}

function near(actual: number[], expected: number[], tol = 12): void {
  assert.ok(actual.every((v, i) => Math.abs(v - expected[i]) <= tol), `${actual} ≉ ${expected}`);
}

function assertCode(code: string) {
  return (e: unknown) => e instanceof ImageInputError && e.code === code;
}

test('PNG decodes to RGB HWC', async () => {
  const png = await (await halves()).png().toBuffer();
  const img = await decodeInputImage(png, limits);
  assert.equal(img.width, 40);
  assert.equal(img.height, 20);
  assert.equal(img.data.length, 40 * 20 * 3);
  assert.deepEqual(pixel(img, 0, 0), [255, 0, 0]);
  assert.deepEqual(pixel(img, 39, 19), [0, 0, 255]);
});

test('EXIF orientation is applied (orientation 6 = rotate 90° clockwise)', async () => {
  const jpeg = await (await halves()).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  assert.equal((await sharp(jpeg).metadata()).orientation, 6);
  const img = await decodeInputImage(jpeg, limits);
  assert.equal(img.width, 20);
  assert.equal(img.height, 40);
  near(pixel(img, 10, 2), [255, 0, 0]); // stored left (red) is displayed on top
  near(pixel(img, 10, 37), [0, 0, 255]);
});

test('alpha is flattened over white', async () => {
  const rgba = Buffer.from([255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 128]);
  const png = await sharp(rgba, { raw: { width: 3, height: 1, channels: 4 } }).png().toBuffer();
  const img = await decodeInputImage(png, limits);
  assert.deepEqual(pixel(img, 0, 0), [255, 0, 0]);
  assert.deepEqual(pixel(img, 1, 0), [255, 255, 255]);
  near(pixel(img, 2, 0), [128, 255, 127], 2);
});

test('grayscale input becomes three equal channels', async () => {
  const png = await sharp(Buffer.from([0, 100, 200, 255]), { raw: { width: 2, height: 2, channels: 1 } }).png().toBuffer();
  const img = await decodeInputImage(png, limits);
  assert.deepEqual(pixel(img, 1, 0), [100, 100, 100]);
});

test('WebP and the first frame of an animated GIF decode', async () => {
  const webp = await (await halves()).webp({ lossless: true }).toBuffer();
  assert.deepEqual(pixel(await decodeInputImage(webp, limits), 0, 0), [255, 0, 0]);
  // Two stacked 4×4 frames: green, then blue.
  const frames = Buffer.alloc(4 * 8 * 3);
  for (let i = 0; i < 32; i++) frames[i * 3 + (i < 16 ? 1 : 2)] = 255;
  const anim = await sharp(frames, { raw: { width: 4, height: 8, channels: 3, pageHeight: 4 } }).gif().toBuffer();
  assert.equal((await sharp(anim, { pages: -1 }).metadata()).pages, 2);
  const img = await decodeInputImage(anim, limits);
  assert.equal(img.height, 4);
  assert.deepEqual(pixel(img, 0, 0), [0, 255, 0]);
});

test('too many bytes → image_too_large', async () => {
  const png = await (await halves()).png().toBuffer();
  await assert.rejects(decodeInputImage(png, { maxPixels: 1e6, maxBytes: 10 }), assertCode('image_too_large'));
});

test('decompression bomb: a small file declaring many pixels → image_too_large before decoding', async () => {
  const png = await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#000' } }).png({ compressionLevel: 9 }).toBuffer();
  assert.ok(png.length < 100_000, `${png.length} bytes`);
  await assert.rejects(decodeInputImage(png, { maxPixels: 1_000_000 }), assertCode('image_too_large'));
  // A 1-pixel limit refuses even a 2×1 image.
  const tiny = await sharp({ create: { width: 2, height: 1, channels: 3, background: '#fff' } }).png().toBuffer();
  await assert.rejects(decodeInputImage(tiny, { maxPixels: 1 }), assertCode('image_too_large'));
});

test('garbage → image_invalid; truncated PNG → image_invalid', async () => {
  await assert.rejects(decodeInputImage(Buffer.from('hello, not an image'), limits), assertCode('image_invalid'));
  await assert.rejects(decodeInputImage(Buffer.alloc(0), limits), assertCode('image_invalid'));
  const png = await (await halves()).png().toBuffer();
  await assert.rejects(decodeInputImage(png.subarray(0, png.length - 30), limits), assertCode('image_invalid'));
});

test('formats other than png/jpeg/webp/gif → image_unsupported_format', async () => {
  const tiff = await (await halves()).tiff().toBuffer();
  await assert.rejects(decodeInputImage(tiff, limits), assertCode('image_unsupported_format'));
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>');
  await assert.rejects(decodeInputImage(svg, limits), assertCode('image_unsupported_format'));
});

test('16-bit PNG and CMYK JPEG come out as 8-bit sRGB', async () => {
  const png16 = await (await halves()).toColourspace('rgb16').png().toBuffer();
  assert.equal((await sharp(png16).metadata()).depth, 'ushort');
  const a = await decodeInputImage(png16, limits);
  assert.equal(a.data.length, 40 * 20 * 3);
  assert.deepEqual(pixel(a, 0, 0), [255, 0, 0]);
  const cmyk = await (await halves()).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  const b = await decodeInputImage(cmyk, limits);
  assert.equal(b.data.length, 40 * 20 * 3);
  // Through a CMYK profile round trip colours shift, but red stays red and blue stays blue.
  const [r, , bl] = pixel(b, 2, 10);
  const [r2, , b2] = pixel(b, 38, 10);
  assert.ok(r > 150 && bl < 50 && b2 > 100 && r2 < 60, `${pixel(b, 2, 10)} / ${pixel(b, 38, 10)}`);
});
