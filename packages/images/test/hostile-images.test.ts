// Hostile inputs: only PNG/JPEG/WebP/GIF reach libvips (magic bytes first, every other loader
// blocked process-wide), multi-frame inputs give their first frame, outputs carry nothing of the
// input's metadata, and the mask's per-pixel work (done by libvips) matches the reference formula.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp, { type Color } from 'sharp';
import { ALLOWED_LOADERS, decodeInputImage, decodeMask, encodeImage, grayToRgb, ImageInputError, sniffFormat } from '../src/index.ts';

const limits = { maxPixels: 1_000_000, maxBytes: 1_000_000 };
const code = (c: string) => (err: unknown) => err instanceof ImageInputError && err.code === c;
const solid = (w: number, h: number, background: Color, channels: 3 | 4 = 3) => sharp({ create: { width: w, height: h, channels, background } });

test('magic bytes decide, not the decoder: foreign formats and disguised files never reach libvips', async () => {
  const png = await solid(4, 4, '#f00').png().toBuffer();
  assert.equal(sniffFormat(png), 'png');
  assert.equal(sniffFormat(await solid(4, 4, '#f00').jpeg().toBuffer()), 'jpeg');
  assert.equal(sniffFormat(await solid(4, 4, '#f00').webp().toBuffer()), 'webp');
  assert.equal(sniffFormat(await solid(4, 4, '#f00').gif().toBuffer()), 'gif');
  const foreign: Array<[string, Buffer]> = [
    ['tiff', await solid(4, 4, '#f00').tiff().toBuffer()],
    ['svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')],
    ['svg with xml prolog', Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')],
    ['pdf', Buffer.from('%PDF-1.4\n%âãÏÓ\n')],
    ['heif', Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.alloc(16)])],
    ['ppm', Buffer.from('P6\n4 4\n255\n' + '\0'.repeat(48))],
    ['vips native', Buffer.concat([Buffer.from([0x08, 0xf2, 0xa6, 0xb6]), Buffer.alloc(64)])],
  ];
  for (const [name, buf] of foreign) {
    assert.equal(sniffFormat(buf), null, name);
    await assert.rejects(decodeInputImage(buf, limits), (e: unknown) => e instanceof ImageInputError && ['image_unsupported_format', 'image_invalid'].includes(e.code), name);
  }
  // An SVG with a PNG's name is still an SVG: the bytes decide.
  await assert.rejects(decodeMask(foreign[1][1], { width: 4, height: 4, ...limits }), (e: unknown) => e instanceof ImageInputError);
});

test('the other libvips loaders are blocked in the process (second line of defence)', async () => {
  assert.deepEqual([...ALLOWED_LOADERS].sort(), ['VipsForeignLoadJpeg', 'VipsForeignLoadNsgif', 'VipsForeignLoadPng', 'VipsForeignLoadWebp']);
  const tiff = await solid(4, 4, '#0f0').tiff().toBuffer();
  await assert.rejects(sharp(tiff).metadata(), /unsupported image format/);
  await assert.rejects(sharp(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')).metadata(), /unsupported image format/);
  assert.equal((await sharp(await solid(4, 4, '#0f0').png().toBuffer()).metadata()).format, 'png');
});

test('decoder failures tell the client nothing of libvips internals', async () => {
  const png = await solid(8, 8, '#00f').png().toBuffer();
  const truncated = png.subarray(0, 40);
  await assert.rejects(decodeInputImage(truncated, limits), (e: unknown) => {
    assert.ok(e instanceof ImageInputError);
    assert.equal(e.code, 'image_invalid');
    assert.doesNotMatch(e.message, /vips|spng|libpng|\//i);
    return true;
  });
});

test('multi-frame GIF and WebP: the first frame, at one frame\'s height', async () => {
  const frames = await Promise.all([[255, 0, 0], [0, 0, 255], [0, 255, 0]].map(([r, g, b]) => solid(6, 5, { r, g, b, alpha: 1 }, 4).png().toBuffer()));
  for (const fmt of ['gif', 'webp'] as const) {
    const anim = await sharp(frames, { join: { animated: true } })[fmt]({ ...(fmt === 'webp' ? { lossless: true } : {}) }).toBuffer();
    assert.ok(((await sharp(anim, { pages: -1 }).metadata()).pages ?? 1) >= 3, `${fmt} has several frames`);
    const img = await decodeInputImage(anim, limits);
    assert.deepEqual([img.width, img.height], [6, 5], fmt);
    assert.ok(img.data[0] > 200 && img.data[2] < 50, `${fmt}: first frame is red (${img.data.slice(0, 3)})`);
  }
});

test('outputs carry no EXIF or ICC profile of the input; only our parameters', async () => {
  const input = await solid(16, 16, '#888').withMetadata({ orientation: 1, icc: 'p3', exif: { IFD0: { Copyright: 'secret-camera-owner', Make: 'SpyCam' } } }).jpeg().toBuffer();
  const inMeta = await sharp(input).metadata();
  assert.ok(inMeta.icc && inMeta.exif, 'the input has an ICC profile and EXIF');
  const decoded = await decodeInputImage(input, limits);
  for (const format of ['png', 'jpeg', 'webp'] as const) {
    const out = await encodeImage(decoded, { format, parameters: 'a fox\nSteps: 1' });
    const meta = await sharp(out).metadata();
    assert.equal(meta.icc, undefined, `${format}: no ICC`);
    const exif = meta.exif?.toString('latin1') ?? '';
    assert.doesNotMatch(exif, /secret-camera-owner|SpyCam/, `${format}: no input EXIF`);
    assert.ok(!out.toString('latin1').includes('secret-camera-owner'), `${format}: nothing of the input's metadata in the bytes`);
  }
});

test('mask luma in libvips equals the reference integer formula on every RGB value it is given', async () => {
  const w = 256, h = 64, n = w * h;
  const rgb = Buffer.alloc(n * 3);
  let s = 12345;
  for (let i = 0; i < rgb.length; i++) { s = (s * 1103515245 + 12345) >>> 0; rgb[i] = s >>> 24; }
  for (let i = 0; i < 256; i++) rgb.set([i, i, i], i * 3); // the gray ramp
  const png = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  const mask = await decodeMask(png, { width: w, height: h, ...limits });
  let mismatches = 0;
  for (let i = 0; i < n; i++) {
    const ref = (rgb[3 * i] * 19595 + rgb[3 * i + 1] * 38470 + rgb[3 * i + 2] * 7471 + 0x8000) >> 16;
    if (mask.data[i] !== ref) mismatches++;
  }
  assert.equal(mismatches, 0);
  const inverted = await decodeMask(png, { width: w, height: h, invert: true, ...limits });
  assert.ok(inverted.data.every((v, i) => v === 255 - mask.data[i]));
});

test('grayToRgb repeats the gray value in three channels', async () => {
  const gray = { data: Uint8Array.from({ length: 12 }, (_, i) => i * 20), width: 4, height: 3 };
  const rgb = await grayToRgb(gray);
  assert.equal(rgb.data.length, 36);
  for (let i = 0; i < 12; i++) assert.deepEqual([...rgb.data.subarray(3 * i, 3 * i + 3)], [i * 20, i * 20, i * 20]);
});
