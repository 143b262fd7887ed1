// `npm run generate -- --detect-watermark FILE`: finds the payload in a marked image (also after
// JPEG quality 75), and says "no" (exit 1) for an unmarked one.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { embedWatermark, parseWatermarkPayload } from '@sdsvc/images';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(ROOT, 'apps/cli/src/generate.ts');
const dir = await mkdtemp(join(tmpdir(), 'sdsvc-wm-'));
after(() => rm(dir, { recursive: true, force: true }));

function picture(w: number, h: number) {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (Math.sin(i / 97) * 60 + 120 + ((i * 2654435761) % 23)) | 0;
  return { data, width: w, height: h };
}

async function detect(file: string, payload?: string): Promise<{ code: number; out: { watermark: boolean; read: string; expected: string } }> {
  const args = [CLI, '--detect-watermark', file, ...(payload ? ['--watermark-payload', payload] : [])];
  try {
    const { stdout } = await run(process.execPath, args, { env: { ...process.env, INIT_CWD: dir } });
    return { code: 0, out: JSON.parse(stdout) };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: JSON.parse(e.stdout) };
  }
}

test('a marked PNG and its JPEG (quality 75) are recognised; an unmarked one is not', async () => {
  const img = picture(256, 256);
  const marked = embedWatermark(img, parseWatermarkPayload('sdsvc').bits);
  const raw = (x: typeof img) => sharp(x.data, { raw: { width: x.width, height: x.height, channels: 3 } });
  await writeFile(join(dir, 'marked.png'), await raw(marked).png().toBuffer());
  await writeFile(join(dir, 'marked.jpg'), await raw(marked).jpeg({ quality: 75 }).toBuffer());
  await writeFile(join(dir, 'plain.png'), await raw(img).png().toBuffer());
  for (const file of ['marked.png', 'marked.jpg']) {
    const r = await detect(file);
    assert.equal(r.code, 0, file);
    assert.deepEqual(r.out.watermark, true);
    assert.equal(r.out.read, 'sdsvc');
  }
  const plain = await detect('plain.png');
  assert.equal(plain.code, 1);
  assert.equal(plain.out.watermark, false);
});

test('a 32-bit payload is read back as hex', async () => {
  const marked = embedWatermark(picture(128, 128), parseWatermarkPayload('0xC0FFEE').bits);
  await writeFile(join(dir, 'n.png'), await sharp(marked.data, { raw: { width: 128, height: 128, channels: 3 } }).png().toBuffer());
  const r = await detect('n.png', '0xc0ffee');
  assert.equal(r.code, 0);
  assert.equal(r.out.read, '0x00c0ffee');
});
