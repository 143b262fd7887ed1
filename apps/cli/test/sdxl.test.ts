// The CLI on an SDXL model: the SDXL flags parse (and bad forms are usage errors), and two
// recorded diffusers SDXL runs come out within 2/255 — one without --negative-prompt (zero
// negative embeddings: "none" survives the CLI), one with non-default micro-conditioning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { parseCliArgs, UsageError } from '../src/cli-args.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../..');
const NODE = join(ROOT, 'scripts/node');
const CLI = join(ROOT, 'apps/cli/src/generate.ts');
const MODEL = join(ROOT, 'models/tiny-sdxl');
const GOLDEN = join(ROOT, 'test/fixtures/parity/sdxl');

async function rgb(file: string): Promise<Buffer> {
  return (await sharp(file).removeAlpha().raw().toBuffer());
}

function maxDiff(a: Buffer, b: Buffer): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

test('SDXL flags parse; malformed sizes and crops are usage errors', () => {
  const base = ['--model', 'm', '--prompt', 'p', '--out', 'o.png'];
  const o = parseCliArgs([...base, '--prompt-2', 'p2', '--negative-prompt-2', 'n2', '--original-size', '1024x768',
    '--target-size', '512x512', '--crops-coords-top-left', '16,32', '--negative-original-size', '64x64',
    '--negative-target-size', '32x48', '--negative-crops-coords-top-left', '1,2', '--aesthetic-score', '7'], '/tmp');
  assert.deepEqual(o.sdxl, {
    prompt2: 'p2', negativePrompt2: 'n2', originalSize: { width: 1024, height: 768 }, targetSize: { width: 512, height: 512 },
    cropsCoordsTopLeft: { top: 16, left: 32 }, negativeOriginalSize: { width: 64, height: 64 },
    negativeTargetSize: { width: 32, height: 48 }, negativeCropsCoordsTopLeft: { top: 1, left: 2 }, aestheticScore: 7,
  });
  assert.equal(o.negativePrompt, undefined, 'no --negative-prompt: none');
  assert.equal(parseCliArgs([...base, '--negative-prompt', ''], '/tmp').negativePrompt, '');
  assert.throws(() => parseCliArgs([...base, '--original-size', '1024'], '/tmp'), UsageError);
  assert.throws(() => parseCliArgs([...base, '--crops-coords-top-left', '1;2'], '/tmp'), UsageError);
  assert.equal(parseCliArgs([...base, '--init-image', 'i.png'], '/tmp').strengthIsDefault, true);
});

test('tiny-sdxl from the CLI matches diffusers: no negative prompt, and micro-conditioning', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-cli-sdxl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await run(NODE, [CLI, '--model', MODEL, '--prompt', 'a photo of an astronaut riding a horse', '--steps', '10',
    '--guidance-scale', '5', '--seed', '0', '--out', 'euler.png'], { cwd: ROOT, env: { ...process.env, INIT_CWD: dir } });
  const d1 = maxDiff(await rgb(join(dir, 'euler.png')), await rgb(join(GOLDEN, 'sdxl_txt2img_euler/image_0.png')));
  assert.ok(d1 <= 2, `sdxl_txt2img_euler differs by ${d1}/255`);

  await run(NODE, [CLI, '--model', MODEL, '--prompt', 'a cozy cabin in the snowy woods', '--negative-prompt', 'people',
    '--prompt-syntax', 'plain', '--scheduler', 'dpmpp_2m', '--steps', '10', '--guidance-scale', '6', '--seed', '7',
    '--width', '128', '--height', '96', '--original-size', '512x384', '--crops-coords-top-left', '16,32', '--target-size', '256x192',
    '--out', 'micro.png'], { cwd: ROOT, env: { ...process.env, INIT_CWD: dir } });
  const d2 = maxDiff(await rgb(join(dir, 'micro.png')), await rgb(join(GOLDEN, 'sdxl_txt2img_microcond_128x96/image_0.png')));
  assert.ok(d2 <= 2, `sdxl_txt2img_microcond_128x96 differs by ${d2}/255`);
});
