// `npm run generate -- --animation settings.json`: the API's animation fields as a file, run on the
// engine directly, written as an animated file; bad settings are a usage error naming the field.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = join(ROOT, 'apps/cli/src/generate.ts');
const dir = await mkdtemp(join(tmpdir(), 'sdsvc-cli-anim-'));
after(() => rm(dir, { recursive: true, force: true }));

const cli = (args: string[]) => run(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, INIT_CWD: dir } });

test('settings.json → an animated GIF with the frames and fps asked for', async () => {
  await writeFile(join(dir, 'anim.json'), JSON.stringify({
    prompts: { 0: 'a forest', 2: 'a desert' }, frames: 3, fps: 4, width: 64, height: 64, steps: 2, seed: 3,
    zoom: '0:(1.05)', output_format: 'gif',
  }));
  const { stderr } = await cli(['--model', join(ROOT, 'models/tiny-sd15'), '--animation', 'anim.json', '--out', 'out/anim.gif']);
  assert.match(stderr, /wrote .*anim\.gif \(3 frames at 4 fps, gif, seed 3\)/);
  const meta = await sharp(join(dir, 'out/anim.gif'), { animated: true }).metadata();
  assert.equal(meta.pages, 3);
  assert.deepEqual(meta.delay, [250, 250, 250]);
});

test('a bad schedule is a usage error (exit 2) naming the field', async () => {
  await writeFile(join(dir, 'bad.json'), JSON.stringify({ prompt: 'x', frames: 3, zoom: '0:(oops)' }));
  await assert.rejects(cli(['--model', join(ROOT, 'models/tiny-sd15'), '--animation', 'bad.json', '--out', 'x.webp']),
    (err: { code: number; stderr: string }) => err.code === 2 && /zoom: .*unknown name "oops"/.test(err.stderr));
});
