import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { encodeImage, formatParameters, readPngText, insertPngText, type RgbImage } from '@sdsvc/images';

// Chunk-layout tests turn provenance off; provenance.test.ts checks both together.
const img: RgbImage = { data: new Uint8Array(8 * 4 * 3).map((_, i) => i * 5), width: 8, height: 4 };

test('PNG carries a tEXt parameters chunk after IHDR and still decodes to the same pixels', async () => {
  const text = 'a cat\nNegative prompt: ugly\nSteps: 20, Sampler: Euler a';
  const png = await encodeImage(img, { format: 'png', parameters: text, provenance: false });
  assert.equal(png.toString('latin1', 37, 41), 'tEXt');
  assert.deepEqual(readPngText(png), { parameters: text });
  const raw = await sharp(png).raw().toBuffer();
  assert.deepEqual(new Uint8Array(raw), img.data);
  // libvips/libpng validate chunk CRCs: reading the metadata succeeds and reports the text.
  const meta = await sharp(png).metadata();
  assert.deepEqual(meta.comments, [{ keyword: 'parameters', text }]);
});

test('non-Latin-1 text goes in an iTXt chunk (UTF-8)', async () => {
  const text = '猫, (ねこ:1.2) — 🐱';
  const png = await encodeImage(img, { format: 'png', parameters: text, provenance: false });
  assert.equal(png.toString('latin1', 37, 41), 'iTXt');
  assert.deepEqual(readPngText(png), { parameters: text });
  await sharp(png).raw().toBuffer();
});

test('Latin-1 accents stay tEXt and round-trip', async () => {
  const png = insertPngText(await encodeImage(img, { format: 'png', provenance: false }), 'parameters', 'café crème');
  assert.deepEqual(readPngText(png), { parameters: 'café crème' });
});

test('a chunk with a bad CRC is ignored by readPngText', async () => {
  const png = Buffer.from(await encodeImage(img, { format: 'png', parameters: 'x', provenance: false }));
  png[42] ^= 0xff; // inside the text data
  assert.deepEqual(readPngText(png), {});
});

test('webp and jpeg encode at the requested format and size, parameters in EXIF UserComment', async () => {
  const text = 'a cat\nSteps: 20, Sampler: Euler a';
  for (const format of ['webp', 'jpeg'] as const) {
    const buf = await encodeImage(img, { format, quality: 80, parameters: text });
    const meta = await sharp(buf).metadata();
    assert.equal(meta.format, format);
    assert.equal(meta.width, 8);
    assert.equal(meta.height, 4);
    // UserComment = 8-byte charset prefix + text (the form A1111's piexif reader decodes).
    assert.ok(meta.exif?.includes(Buffer.from(`ASCII\0\0\0${text}`, 'latin1')), format);
    const plain = await sharp(await encodeImage(img, { format })).metadata();
    assert.equal(plain.exif, undefined);
  }
});

test('formatParameters writes the A1111 infotext layout', () => {
  const text = formatParameters({
    prompt: 'a (red:1.2) cat, (-blurry)',
    negativePrompt: 'ugly, blurry',
    steps: 20,
    sampler: 'euler_a',
    cfgScale: 7.5,
    seed: 1234,
    width: 512,
    height: 768,
    model: 'tiny-sd15',
    denoisingStrength: 0.75,
    maskBlur: 4,
    extra: { 'Resize mode': 'crop', 'Reference image': 'https://x.example/a.png', Unused: undefined },
  });
  assert.equal(
    text,
    'a (red:1.2) cat, (-blurry)\n' +
      'Negative prompt: ugly, blurry\n' +
      'Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1234, Size: 512x768, Model: tiny-sd15, ' +
      'Denoising strength: 0.75, Mask blur: 4, Resize mode: crop, Reference image: "https://x.example/a.png"',
  );
});

test('formatParameters: no negative line when empty; schedule type for karras; unknown sampler kept', () => {
  assert.equal(
    formatParameters({ prompt: 'x', negativePrompt: '', steps: 1, sampler: 'dpmpp_2m_karras', cfgScale: 1, seed: 0, width: 64, height: 64 }),
    'x\nSteps: 1, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 1, Seed: 0, Size: 64x64',
  );
  assert.match(formatParameters({ prompt: 'x', steps: 1, sampler: 'my_sampler', cfgScale: 1, seed: 0, width: 8, height: 8 }), /Sampler: my_sampler,/);
});

test('formatParameters: single-step DPM-Solver++ is labelled DPM++ 2S, not DPM++ SDE', () => {
  const line = formatParameters({ prompt: 'x', steps: 1, sampler: 'dpm_single', cfgScale: 1, seed: 0, width: 8, height: 8 });
  assert.match(line, /Sampler: DPM\+\+ 2S,/);
  assert.doesNotMatch(line, /SDE/);
  assert.match(formatParameters({ prompt: 'x', steps: 1, sampler: 'euler_karras', cfgScale: 1, seed: 0, width: 8, height: 8 }), /Sampler: Euler, Schedule type: Karras,/);
});
