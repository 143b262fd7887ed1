// Parity with diffusers' safety checker on the fixture images (test/fixtures/parity/safety_checker,
// from /shared/parity): the Pillow-bicubic resize + crop bit for bit (crop_file), clip_input bit for
// bit where the fixture keeps it, and the has_nsfw_concepts flags exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { readPreprocessConfig, resizeAndCrop, SafetyChecker, type Rgb8 } from '../src/index.ts';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/parity/safety_checker/', import.meta.url));
const MODEL = fileURLToPath(new URL('../../../test/fixtures/models/tiny-safety-checker', import.meta.url));

interface FixtureImage { id: string; file: string; crop_file: string; width: number; height: number }
interface FixtureCase { id: string; images: FixtureImage[]; has_nsfw_concepts: boolean[]; clip_input: { file: string } }
const index = JSON.parse(await readFile(`${FIXTURES}index.json`, 'utf8')) as { cases: FixtureCase[] };

async function rgb8(file: string): Promise<Rgb8> {
  const { data, info } = await sharp(`${FIXTURES}${file}`).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

const cfg = await readPreprocessConfig(`${MODEL}/feature_extractor/preprocessor_config.json`);
const images = index.cases.flatMap((c) => c.images);

test('fixture set covers upscale, downscale, non-square both ways and an unchanged size', () => {
  assert.ok(images.some((i) => i.width < 224 && i.height < 224));
  assert.ok(images.some((i) => Math.min(i.width, i.height) > 224));
  assert.ok(images.some((i) => i.width > i.height) && images.some((i) => i.width < i.height));
  assert.ok(images.some((i) => i.width === 224 && i.height === 224));
});

for (const img of images) {
  test(`resize + centre crop of ${img.id} (${img.width}×${img.height}) equals Pillow's, bit for bit`, async () => {
    const got = resizeAndCrop(await rgb8(img.file), cfg);
    const want = await rgb8(img.crop_file);
    assert.equal(got.width, want.width);
    assert.equal(got.height, want.height);
    let diff = 0;
    for (let i = 0; i < want.data.length; i++) if (got.data[i] !== want.data[i]) diff++;
    assert.equal(diff, 0, `${diff} of ${want.data.length} values differ`);
  });
}

const checker = await SafetyChecker.load(MODEL);

for (const c of index.cases) {
  test(`has_nsfw_concepts of case ${c.id} match diffusers (${c.has_nsfw_concepts.join(', ')})`, async () => {
    const flags: boolean[] = [];
    for (const img of c.images) flags.push((await checker.check(await rgb8(img.file))).nsfw);
    assert.deepEqual(flags, c.has_nsfw_concepts);
  });
}

test('clip_input equals transformers\' CLIPImageProcessor output bit for bit', async (t) => {
  let checked = 0;
  for (const c of index.cases) {
    const bin = await readFile(`${FIXTURES}${c.clip_input.file}`).catch(() => null);
    if (!bin) continue; // only some cases keep the 600 kB array in the repo; crops cover the rest
    const want = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
    const got = checker.clipInput(await rgb8(c.images[0]!.file));
    assert.equal(got.length, want.length);
    let diff = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) diff++;
    assert.equal(diff, 0, `${c.id}: ${diff} values differ`);
    checked++;
  }
  t.diagnostic(`${checked} cases compared`);
  assert.ok(checked >= 3);
});

test('a flagged and a clean image are told apart in either order (no state between calls)', async () => {
  const flagged = images.find((i) => i.id === 'noise_64')!;
  const clean = images.find((i) => i.id === 'flat_red_64')!;
  const [a, b, c] = await Promise.all([flagged, clean, flagged].map(async (i) => (await checker.check(await rgb8(i.file))).nsfw));
  assert.deepEqual([a, b, c], [true, false, true]);
});

test('a folder without a checker is refused with a clear error', async () => {
  await assert.rejects(SafetyChecker.load(FIXTURES), /no safety checker/);
});

test('an fp16 export of the checker (as next to fp16 pipelines) gives the same flags', async (t) => {
  const { mkdtemp, mkdir, writeFile, copyFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { convertModelToFloat16 } = await import('../../engine/test/support/onnx-fp16.ts');
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-fp16-checker-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'safety_checker'));
  await mkdir(join(dir, 'feature_extractor'));
  await writeFile(join(dir, 'safety_checker/model.onnx'), convertModelToFloat16(await readFile(`${MODEL}/safety_checker/model.onnx`)));
  await copyFile(`${MODEL}/feature_extractor/preprocessor_config.json`, join(dir, 'feature_extractor/preprocessor_config.json'));
  const ort = await import('onnxruntime-node');
  const probe = await ort.InferenceSession.create(join(dir, 'safety_checker/model.onnx'));
  const types = probe.inputMetadata.map((m) => (m.isTensor ? m.type : 'none'));
  await probe.release();
  assert.deepEqual(types, ['float16', 'float16'], 'the converted graph really takes half precision');
  const half = await SafetyChecker.load(dir);
  t.after(() => half.close());
  for (const c of index.cases) {
    const flags: boolean[] = [];
    for (const img of c.images) flags.push((await half.check(await rgb8(img.file))).nsfw);
    assert.deepEqual(flags, c.has_nsfw_concepts, c.id);
  }
});
