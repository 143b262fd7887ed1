// Every encoded output carries XMP with IPTC DigitalSourceType = trainedAlgorithmicMedia, readable
// by a standard reader (libvips through sharp's metadata), beside the A1111 parameters text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { DIGITAL_SOURCE_TYPE, digitalSourceTypeOf, encodeImage, readPngText, type OutputFormat, type RgbImage } from '../src/index.ts';

const img: RgbImage = { width: 16, height: 8, data: new Uint8Array(16 * 8 * 3).map((_, i) => (i * 37) % 256) };

for (const format of ['png', 'jpeg', 'webp'] as OutputFormat[]) {
  test(`${format}: XMP says trainedAlgorithmicMedia and names the model`, async () => {
    const buf = await encodeImage(img, { format, parameters: 'a fox\nSteps: 20', provenance: { creatorTool: 'sdsvc', model: 'tiny-<sd>' } });
    const meta = await sharp(buf).metadata();
    assert.equal(meta.format, format);
    assert.ok(meta.xmp, 'no XMP packet');
    assert.equal(digitalSourceTypeOf(meta.xmp), DIGITAL_SOURCE_TYPE);
    assert.match(String(meta.xmp), /AIModel="tiny-&#60;sd&#62;"/);
    if (format === 'png') assert.equal(readPngText(buf).parameters, 'a fox\nSteps: 20');
    else assert.ok(meta.exif, 'parameters stay in EXIF');
  });
}

test('provenance: false writes no XMP (the only way to leave it out)', async () => {
  for (const format of ['png', 'jpeg', 'webp'] as OutputFormat[]) {
    const meta = await sharp(await encodeImage(img, { format, provenance: false })).metadata();
    assert.equal(meta.xmp, undefined, format);
  }
});

test('digitalSourceTypeOf reads both XMP spellings and says null when absent', () => {
  assert.equal(digitalSourceTypeOf('<Iptc4xmpExt:DigitalSourceType>x</Iptc4xmpExt:DigitalSourceType>'), 'x');
  assert.equal(digitalSourceTypeOf('<x/>'), null);
  assert.equal(digitalSourceTypeOf(undefined), null);
});
