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

test('inpaint through the CLI keeps unmasked pixels with the overlay', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const init = join(PIPES, 'inpaint4_sd15_pndm/init_image.png');
  const mask = join(PIPES, 'inpaint4_sd15_pndm/mask_image.png');
  await cli(dir, ['--model', MODEL, '--prompt', 'a flower', '--steps', '3', '--seed', '1', '--init-image', init, '--mask-image', mask, '--out', 'inp.png']);
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
