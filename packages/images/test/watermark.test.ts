// The DWT-DCT invisible watermark survives what it must: read back exactly, and after JPEG at
// quality 75; it stays invisible (small pixel change) and an unmarked image does not read as marked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { bitsToText, bitsToUint32, detectWatermark, embedWatermark, textBits, uint32Bits, type RgbImage } from '../src/index.ts';

/** A textured test picture (gradients plus noise), like a generated image rather than a flat fill. */
function picture(w: number, h: number, seed = 1): RgbImage {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296);
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = (y * w + x) * 3;
    data[o] = Math.min(255, (x * 255) / w + rnd() * 40);
    data[o + 1] = Math.min(255, (y * 255) / h + rnd() * 40);
    data[o + 2] = Math.min(255, 128 + 60 * Math.sin(x / 9) * Math.cos(y / 7) + rnd() * 30);
  }
  return { data, width: w, height: h };
}

async function jpeg(img: RgbImage, quality: number): Promise<RgbImage> {
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality }).toBuffer();
  const { data, info } = await sharp(buf).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

test('payload encodings: text (UTF-8, MSB first) and 32-bit numbers round-trip', () => {
  assert.deepEqual(textBits('A'), [0, 1, 0, 0, 0, 0, 0, 1]);
  assert.equal(bitsToText(textBits('StableDiffusionV1')), 'StableDiffusionV1');
  assert.equal(bitsToUint32(uint32Bits(0xdeadbeef)), 0xdeadbeef);
  assert.throws(() => uint32Bits(2 ** 32), RangeError);
});

test('a text payload reads back exactly, and after JPEG quality 75', async () => {
  const img = picture(512, 512);
  const bits = textBits('StableDiffusionV1');
  const marked = embedWatermark(img, bits);
  assert.equal(bitsToText(detectWatermark(marked, bits.length)), 'StableDiffusionV1');
  const compressed = await jpeg(marked, 75);
  assert.equal(bitsToText(detectWatermark(compressed, bits.length)), 'StableDiffusionV1');
});

test('a 32-bit payload survives JPEG 75 at 256×256', async () => {
  const marked = embedWatermark(picture(256, 256, 7), uint32Bits(0x5d5c0001));
  assert.equal(bitsToUint32(detectWatermark(await jpeg(marked, 75), 32)), 0x5d5c0001);
});

test('invisible: mean absolute change stays small; the unmarked picture does not carry the payload', () => {
  const img = picture(256, 256, 3);
  const marked = embedWatermark(img, uint32Bits(0xa5a5a5a5));
  let sum = 0;
  for (let i = 0; i < img.data.length; i++) sum += Math.abs(marked.data[i]! - img.data[i]!);
  assert.ok(sum / img.data.length < 4, `mean change ${sum / img.data.length}`);
  assert.notEqual(bitsToUint32(detectWatermark(img, 32)), 0xa5a5a5a5);
});

test("the library's own chroma scales [0, 36, 36] read back uncompressed", () => {
  const marked = embedWatermark(picture(256, 256, 5), uint32Bits(0x12345678), { scales: [0, 36, 36] });
  assert.equal(bitsToUint32(detectWatermark(marked, 32, { scales: [0, 36, 36] })), 0x12345678);
});

test('an image too small for the payload is refused', () => {
  assert.throws(() => embedWatermark(picture(32, 32), textBits('StableDiffusionV1')), /too small/);
});
