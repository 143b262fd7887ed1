import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitImage, defaultSizeFor, type RgbImage } from '@sdsvc/images';

// w×h image, every pixel coloured by its column: red = 255 in the left half, blue = 255 in the right half.
function columns(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(y * w + x) * 3 + (x < w / 2 ? 0 : 2)] = 255;
  return { data, width: w, height: h };
}

function px(img: RgbImage, x: number, y: number): number[] {
  const o = (y * img.width + x) * 3;
  return [...img.data.subarray(o, o + 3)];
}

test('resize stretches to the exact size', async () => {
  const out = await fitImage(columns(40, 20), 16, 16, 'resize');
  assert.equal(out.width, 16);
  assert.equal(out.height, 16);
  assert.equal(out.data.length, 16 * 16 * 3);
  assert.deepEqual(px(out, 0, 0), [255, 0, 0]);
  assert.deepEqual(px(out, 15, 15), [0, 0, 255]);
});

test('crop covers and centre-crops: a 40×20 into 20×20 keeps the middle 20 columns', async () => {
  // Columns 0-9 green, 10-29 per halves, 30-39 green: green must be cropped away.
  const img = columns(40, 20);
  for (let y = 0; y < 20; y++) for (const x of [...Array(10).keys(), ...Array.from({ length: 10 }, (_, i) => 30 + i)]) {
    img.data.set([0, 255, 0], (y * 40 + x) * 3);
  }
  const out = await fitImage(img, 20, 20, 'crop');
  assert.equal(out.width, 20);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) assert.equal(px(out, x, y)[1], 0, `green at ${x},${y}`);
  assert.deepEqual(px(out, 0, 5), [255, 0, 0]);
  assert.deepEqual(px(out, 19, 5), [0, 0, 255]);
  // Downscaled: the centre columns still come from the middle of the source.
  const small = await fitImage(img, 10, 10, 'crop');
  assert.ok(px(small, 3, 5)[0] > 200 && px(small, 3, 5)[1] < 30);
  assert.ok(px(small, 6, 5)[2] > 200 && px(small, 6, 5)[1] < 30);
});

test('fill fits inside, centres, and extends the edge pixels into the bands', async () => {
  // 20×20 with a red top row, blue bottom row, grey middle → 20×40: bands copy the edge rows.
  const w = 20;
  const data = new Uint8Array(w * w * 3).fill(128);
  for (let x = 0; x < w; x++) { data.set([255, 0, 0], x * 3); data.set([0, 0, 255], ((w - 1) * w + x) * 3); }
  const out = await fitImage({ data, width: w, height: w }, 20, 40, 'fill');
  assert.equal(out.height, 40);
  for (let y = 0; y < 10; y++) assert.deepEqual(px(out, 5, y), [255, 0, 0], `row ${y}`);
  for (let y = 30; y < 40; y++) assert.deepEqual(px(out, 5, y), [0, 0, 255], `row ${y}`);
  assert.deepEqual(px(out, 5, 20), [128, 128, 128]);
});

test('fitting to the same size is a copy', async () => {
  const img = columns(8, 8);
  const out = await fitImage(img, 8, 8, 'crop');
  assert.deepEqual(out.data, img.data);
  assert.notEqual(out.data, img.data);
});

test('gray images fit too', async () => {
  const out = await fitImage({ data: new Uint8Array(12).fill(200), width: 4, height: 3 }, 8, 8, 'fill');
  assert.equal(out.data.length, 64);
  assert.ok(out.data.every((v) => v === 200));
});

test('gray fill keeps the picture in place (sharp widened the inner resize to 3 channels)', async () => {
  // 20×20 mask with a white 10×10 centre square, filled to 64×64 and 64×40.
  const data = new Uint8Array(400);
  for (let y = 5; y < 15; y++) for (let x = 5; x < 15; x++) data[y * 20 + x] = 255;
  const square = await fitImage({ data, width: 20, height: 20 }, 64, 64, 'fill');
  assert.deepEqual([square.data[32 * 64 + 32], square.data[0], square.data[63 * 64 + 63]], [255, 0, 0]);
  const wide = await fitImage({ data, width: 20, height: 20 }, 64, 40, 'fill');
  assert.equal(wide.data.length, 64 * 40);
  assert.deepEqual([wide.data[20 * 64 + 32], wide.data[20 * 64 + 2]], [255, 0]);
});

test('defaultSizeFor rounds down to the step, never below one step', () => {
  assert.deepEqual(defaultSizeFor({ width: 513, height: 767 }), { width: 512, height: 760 });
  assert.deepEqual(defaultSizeFor({ width: 512, height: 512 }), { width: 512, height: 512 });
  assert.deepEqual(defaultSizeFor({ width: 700, height: 300 }, 64), { width: 640, height: 256 });
  assert.deepEqual(defaultSizeFor({ width: 5, height: 3 }), { width: 8, height: 8 });
});
