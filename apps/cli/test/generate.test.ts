// The CLI as a user runs it: a child process on the tiny model, paths relative to INIT_CWD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { readPngText } from '@sdsvc/images';
import { CreateJobRequest } from '@sdsvc/contracts';
import { DEFAULTS as API_DEFAULTS } from '@sdsvc/submission';
import { DEFAULTS, parseCliArgs, USAGE } from '../src/cli-args.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../..');
const NODE = join(ROOT, 'scripts/node');
const CLI = join(ROOT, 'apps/cli/src/generate.ts');
const MODEL = join(ROOT, 'models/tiny-sd15');
const PIPES = join(ROOT, 'test/fixtures/parity/pipelines');

async function cli(cwd: string, args: string[]) {
  return run(NODE, [CLI, ...args], { cwd: ROOT, env: { ...process.env, INIT_CWD: cwd } });
}

async function pixels(file: string) {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

test('txt2img: several images, seeds seed+i, each reproducible alone', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const common = ['--model', MODEL, '--prompt', 'a lighthouse', '--steps', '4', '--width', '96', '--height', '64', '--scheduler', 'euler_a'];
  const { stderr } = await cli(dir, [...common, '--seed', '10', '--num-images', '2', '--out', 'out/pic.png']);
  assert.match(stderr, /4\/4/, 'progress reported');
  const a0 = await pixels(join(dir, 'out/pic-0.png'));
  const a1 = await pixels(join(dir, 'out/pic-1.png'));
  assert.deepEqual([a0.width, a0.height, a0.channels], [96, 64, 3]);
  assert.notDeepEqual(a0.data, a1.data);
  await cli(dir, [...common, '--seed', '11', '--out', 'single.png']);
  const b = await pixels(join(dir, 'single.png'));
  assert.deepEqual(b.data, a1.data, 'image 1 of seed 10 is seed 11 alone');
  const text = readPngText(await readFile(join(dir, 'single.png')));
  assert.match(text.parameters ?? "", /Seed: 11/);
});

test('defaults are the API\'s: A1111 prompt syntax, strength 0.75 (img2img) / 1 (inpaint), mask blur 4', () => {
  // The API's own defaults, not literals: the contract schema's (steps, guidance, images) and the
  // submission service's (strengths, mask blur, resize mode). A change on either side fails here.
  const api = CreateJobRequest.parse({ prompt: 'p' });
  const base = ['--model', 'm', '--prompt', 'p', '--out', 'o.png'];
  const txt = parseCliArgs(base, '/tmp');
  assert.equal(txt.promptSyntax, 'a1111', 'the API always applies the A1111 prompt language');
  assert.equal(txt.strength, undefined);
  assert.equal(txt.maskBlur, API_DEFAULTS.maskBlur);
  assert.equal(txt.resizeMode, API_DEFAULTS.resizeMode);
  assert.equal(txt.overlay, true, 'the API pastes the original back unless overlay is false');
  assert.deepEqual([txt.steps, txt.guidanceScale, txt.numImages], [api.steps, api.guidance_scale, api.num_images]);
  assert.equal(parseCliArgs([...base, '--init-image', 'i.png'], '/tmp').strength, API_DEFAULTS.img2imgStrength);
  assert.equal(parseCliArgs([...base, '--init-image', 'i.png', '--mask-image', 'm.png'], '/tmp').strength, API_DEFAULTS.inpaintStrength);
  assert.equal(parseCliArgs([...base, '--init-image', 'i.png', '--strength', '0.3'], '/tmp').strength, 0.3);
  assert.equal(parseCliArgs([...base, '--mask-blur', '0'], '/tmp').maskBlur, 0);
  assert.equal(parseCliArgs([...base, '--prompt-syntax', 'plain'], '/tmp').promptSyntax, 'plain');
  assert.deepEqual(
    [DEFAULTS.steps, DEFAULTS.guidanceScale, DEFAULTS.numImages, DEFAULTS.img2imgStrength, DEFAULTS.inpaintStrength, DEFAULTS.maskBlur, DEFAULTS.resizeMode],
    [api.steps, api.guidance_scale, api.num_images, API_DEFAULTS.img2imgStrength, API_DEFAULTS.inpaintStrength, API_DEFAULTS.maskBlur, API_DEFAULTS.resizeMode],
  );
  for (const text of [/--prompt-syntax a1111\|plain\s+a1111 \(default/, /plain: diffusers' exact/, new RegExp(`default ${API_DEFAULTS.img2imgStrength} \\(img2img\\), ${API_DEFAULTS.inpaintStrength} \\(inpaint\\)`), new RegExp(`--mask-blur N\\s+default ${API_DEFAULTS.maskBlur}`)]) {
    assert.match(USAGE, text);
  }
});

test('--help prints the defaults', async () => {
  await assert.rejects(cli(tmpdir(), ['--help']), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, /default 0\.75 \(img2img\)/);
    assert.match(err.stderr, /Defaults are the HTTP API's/);
    return true;
  });
});

test('A1111 syntax by default: inline negatives move to the negative prompt; plain keeps the text as is', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const common = ['--model', MODEL, '--prompt', 'a (red:1.3) apple (-blurry)', '--steps', '2', '--width', '64', '--height', '64', '--seed', '4'];
  await cli(dir, [...common, '--out', 'a.png']);
  const a = readPngText(await readFile(join(dir, 'a.png'))).parameters ?? '';
  assert.match(a, /^a \(red:1\.3\) apple\nNegative prompt: blurry\n/);
  await cli(dir, [...common, '--prompt-syntax', 'plain', '--out', 'p.png']);
  const p = readPngText(await readFile(join(dir, 'p.png'))).parameters ?? '';
  assert.match(p, /^a \(red:1\.3\) apple \(-blurry\)\nSteps/);
});

test('inpaint through the CLI: mask blur 4 and strength 1 by default; with --mask-blur 0 the overlay keeps every unmasked pixel', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const init = join(PIPES, 'inpaint4_sd15_pndm/init_image.png');
  const mask = join(PIPES, 'inpaint4_sd15_pndm/mask_image.png');
  const args = ['--model', MODEL, '--prompt', 'a flower', '--steps', '3', '--seed', '1', '--init-image', init, '--mask-image', mask];
  await cli(dir, [...args, '--out', 'blurred.png']);
  const params = readPngText(await readFile(join(dir, 'blurred.png'))).parameters ?? '';
  assert.match(params, /Denoising strength: 1\b/);
  assert.match(params, /Mask blur: 4\b/);
  await cli(dir, [...args, '--mask-blur', '0', '--out', 'inp.png']);
  const out = await pixels(join(dir, 'inp.png'));
  const orig = await pixels(init);
  const m = await sharp(mask).toColourspace('b-w').raw().toBuffer();
  let kept = 0;
  for (let i = 0; i < m.length; i++) {
    if (m[i] !== 0) continue;
    kept++;
    for (let c = 0; c < 3; c++) assert.equal(out.data[3 * i + c], orig.data[3 * i + c]);
  }
  assert.ok(kept > 0);
});

test('bad arguments exit 2 with the usage', async () => {
  await assert.rejects(cli(tmpdir(), ['--model', MODEL, '--out', 'x.png']), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 2);
    assert.match(err.stderr, /--prompt is required/);
    return true;
  });
});
