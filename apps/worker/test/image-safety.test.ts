// SAFETY_MODE on real checker verdicts (the tiny random-weight checker flags known fixture images).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { ImageSafety, type SafetyImage } from '../src/image-safety.ts';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/parity/safety_checker/', import.meta.url));
const CHECKER = fileURLToPath(new URL('../../../test/fixtures/models/tiny-safety-checker', import.meta.url));
const MODELS = fileURLToPath(new URL('../../../models', import.meta.url));

async function load(file: string): Promise<SafetyImage> {
  const { data, info } = await sharp(`${FIXTURES}${file}`).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}
// From the fixture index: noise_64 is flagged, flat_red_64 is not.
const flagged = await load('noise_64.png');
const clean = await load('flat_red_64.png');

const made: ImageSafety[] = [];
const safety = (mode?: 'off' | 'flag' | 'blur' | 'block', checkerModel: string | null = CHECKER) => {
  const s = new ImageSafety({ modelsDir: MODELS, checkerModel: checkerModel ?? undefined, mode });
  made.push(s);
  return s;
};
after(async () => { for (const s of made) await s.close(); });

test('flag (the default) keeps the image and marks it', async () => {
  const s = safety();
  assert.deepEqual(await s.review('tiny-sd15', flagged), { action: 'keep', nsfw: true });
  assert.deepEqual(await s.review('tiny-sd15', clean), { action: 'keep', nsfw: false });
});

test('blur replaces a flagged image with a heavily blurred one of the same size', async () => {
  const out = await safety('blur').review('tiny-sd15', flagged);
  assert.equal(out.action, 'replace');
  if (out.action !== 'replace') return;
  assert.equal(out.image.width, 64);
  assert.equal(out.image.data.length, flagged.data.length);
  const spread = (d: Uint8Array) => { let lo = 255, hi = 0; for (const v of d) { lo = Math.min(lo, v); hi = Math.max(hi, v); } return hi - lo; };
  assert.ok(spread(out.image.data) < spread(flagged.data) / 3, 'noise flattened');
});

test('block stores nothing for a flagged image; clean images pass in every mode', async () => {
  assert.deepEqual(await safety('block').review('tiny-sd15', flagged), { action: 'block', nsfw: true });
  assert.deepEqual(await safety('block').review('tiny-sd15', clean), { action: 'keep', nsfw: false });
});

test('off, safety: false, and a model without a checker skip the check', async () => {
  assert.deepEqual(await safety('off').review('tiny-sd15', flagged), { action: 'keep', nsfw: false });
  assert.deepEqual(await safety('block').review('tiny-sd15', flagged, { skip: true }), { action: 'keep', nsfw: false });
  // No SAFETY_CHECKER_MODEL and tiny-sd15's folder has no checker.
  assert.deepEqual(await safety('block', null).review('tiny-sd15', flagged), { action: 'keep', nsfw: false });
});

test('a SAFETY_CHECKER_MODEL without a checker is an error, not a silent pass', async () => {
  await assert.rejects(safety('flag', MODELS).review('tiny-sd15', clean), /has no safety_checker/);
});
