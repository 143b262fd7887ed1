import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blurMask, cropAndFit, cropImage, expandCropRegion, getCropRegion, inpaintCropRegion, maskBoundingBox, pasteRegion,
  type CropRegion, type GrayImage, type RgbImage,
} from '@sdsvc/images';

function maskWithRect(width: number, height: number, r: CropRegion, value = 255): GrayImage {
  const data = new Uint8Array(width * height);
  for (let y = r.y1; y < r.y2; y++) for (let x = r.x1; x < r.x2; x++) data[y * width + x] = value;
  return { data, width, height };
}

/** Pseudo-random RGB noise: every pixel differs, so a misplaced byte shows. */
function noise(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  return { data, width, height };
}

const r = (x1: number, y1: number, x2: number, y2: number): CropRegion => ({ x1, y1, x2, y2 });

test('bounding box of the non-zero pixels (right/bottom exclusive, as PIL getbbox); blank → null', () => {
  assert.deepEqual(maskBoundingBox(maskWithRect(20, 10, r(3, 2, 7, 9), 1)), r(3, 2, 7, 9));
  const one = maskWithRect(20, 10, r(0, 0, 0, 0));
  one.data[5 * 20 + 19] = 4;
  assert.deepEqual(maskBoundingBox(one), r(19, 5, 20, 6));
  assert.equal(maskBoundingBox(maskWithRect(20, 10, r(0, 0, 0, 0))), null);
  assert.equal(getCropRegion(maskWithRect(20, 10, r(0, 0, 0, 0)), 32), null);
  assert.equal(inpaintCropRegion(maskWithRect(20, 10, r(0, 0, 0, 0)), 32, 64, 64), null);
});

test('padding grows the box on every side and is clamped to the image (get_crop_region_v2)', () => {
  const m = maskWithRect(100, 80, r(10, 30, 40, 50));
  assert.deepEqual(getCropRegion(m, 0), r(10, 30, 40, 50));
  assert.deepEqual(getCropRegion(m, 5), r(5, 25, 45, 55));
  assert.deepEqual(getCropRegion(m, 32), r(0, 0, 72, 80));
});

test('expandCropRegion matches A1111 expand_crop_region (values from its Python)', () => {
  // [region, processing w, h, image w, h] → A1111's result
  const cases: Array<[CropRegion, number, number, number, number, CropRegion]> = [
    [r(10, 40, 138, 72), 512, 512, 512, 512, r(10, 0, 138, 128)], // 128×32 → 128×128, pushed down from the top edge
    [r(0, 0, 30, 100), 512, 512, 200, 200, r(0, 0, 100, 100)],
    [r(180, 10, 200, 30), 768, 512, 200, 200, r(170, 10, 200, 30)], // shifted back left from the right edge
    [r(5, 5, 45, 15), 64, 64, 50, 30, r(5, 0, 45, 30)], // image too small: cut at its edge
    [r(3, 10, 20, 13), 96, 64, 100, 100, r(3, 6, 20, 17)], // int() truncation, floor halves
    [r(0, 0, 33, 7), 512, 768, 40, 40, r(0, 0, 33, 40)],
  ];
  for (const [region, pw, ph, iw, ih, want] of cases) {
    assert.deepEqual(expandCropRegion(region, pw, ph, iw, ih), want, JSON.stringify(region));
  }
});

test('inpaintCropRegion: padded box grown to the generation aspect ratio', () => {
  const m = maskWithRect(200, 100, r(90, 40, 110, 50));
  // padded 8 → (82,32)-(118,58) = 36×26; 64×64 generation → 36×36, centred vertically
  assert.deepEqual(inpaintCropRegion(m, 8, 64, 64), r(82, 27, 118, 63));
});

test('cropImage copies the region (RGB and gray); bad regions throw', () => {
  const img = noise(10, 6, 1);
  const c = cropImage(img, r(2, 1, 5, 4));
  assert.deepEqual([c.width, c.height, c.data.length], [3, 3, 27]);
  for (let y = 0; y < 3; y++) {
    for (let x = 0; x < 3; x++) {
      const s = ((y + 1) * 10 + x + 2) * 3;
      assert.deepEqual([...c.data.subarray((y * 3 + x) * 3, (y * 3 + x) * 3 + 3)], [...img.data.subarray(s, s + 3)]);
    }
  }
  const g = cropImage(maskWithRect(10, 6, r(4, 2, 6, 3)), r(3, 2, 7, 3));
  assert.deepEqual([...g.data], [0, 255, 255, 0]);
  assert.throws(() => cropImage(img, r(5, 1, 11, 4)), RangeError);
  assert.throws(() => cropImage(img, r(5, 1, 5, 4)), RangeError);
});

test('cropAndFit resizes the region to the generation size', async () => {
  const img = noise(40, 30, 2);
  const out = await cropAndFit(img, r(10, 5, 30, 25), 64, 64);
  assert.deepEqual([out.width, out.height, out.data.length], [64, 64, 64 * 64 * 3]);
  const m = await cropAndFit(maskWithRect(40, 30, r(15, 10, 25, 20)), r(10, 5, 30, 25), 64, 64);
  assert.equal(m.data.length, 64 * 64, 'mask stays single-channel');
  assert.equal(m.data[32 * 64 + 32], 255);
  assert.equal(m.data[0], 0);
});

test('pasteRegion through the blurred mask: outside the region byte-for-byte, mask 0 → original, 255 → generated', async () => {
  const original = noise(96, 64, 3);
  const hard = maskWithRect(96, 64, r(40, 20, 56, 36));
  const mask = await blurMask(hard, 3);
  const region = inpaintCropRegion(mask, 4, 64, 64)!;
  assert.ok(region.x1 > 0 && region.x2 < 96, JSON.stringify(region));
  const size = region.x2 - region.x1;
  // A flat generated colour, at the generation size: resizing keeps it exact.
  const generated: RgbImage = { data: new Uint8Array(64 * 64 * 3).fill(7), width: 64, height: 64 };
  const out = await pasteRegion(original, generated, region, mask);
  assert.equal(out.data.length, original.data.length);
  let blended = 0;
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 96; x++) {
      const p = y * 96 + x;
      const inside = x >= region.x1 && x < region.x2 && y >= region.y1 && y < region.y2;
      const got = [...out.data.subarray(p * 3, p * 3 + 3)];
      const orig = [...original.data.subarray(p * 3, p * 3 + 3)];
      const m = mask.data[p];
      if (!inside || m === 0) assert.deepEqual(got, orig, `pixel ${x},${y}`);
      else if (m === 255) assert.deepEqual(got, [7, 7, 7], `pixel ${x},${y}`);
      else {
        blended++;
        assert.deepEqual(got, orig.map((o) => Math.round((o * (255 - m) + 7 * m) / 255)), `pixel ${x},${y}`);
      }
    }
  }
  assert.ok(blended > 0, 'the blurred edge blends');
  assert.equal(size, region.y2 - region.y1, 'square region for a square generation');
  // The original is not modified in place.
  assert.notEqual(out.data, original.data);
});

test('pasteRegion without a mask (overlay off) replaces the whole region and nothing else', async () => {
  const original = noise(50, 40, 4);
  const region = r(10, 8, 30, 28);
  const generated = noise(64, 64, 5);
  const out = await pasteRegion(original, generated, region);
  let changed = 0;
  for (let y = 0; y < 40; y++) {
    for (let x = 0; x < 50; x++) {
      const p = (y * 50 + x) * 3;
      const inside = x >= 10 && x < 30 && y >= 8 && y < 28;
      const same = out.data[p] === original.data[p] && out.data[p + 1] === original.data[p + 1] && out.data[p + 2] === original.data[p + 2];
      if (!inside) assert.ok(same, `pixel ${x},${y} outside the region changed`);
      else if (!same) changed++;
    }
  }
  assert.ok(changed > 380, `region replaced (${changed} of 400 pixels differ)`);
  await assert.rejects(pasteRegion(original, generated, region, maskWithRect(10, 10, region)), RangeError);
});
