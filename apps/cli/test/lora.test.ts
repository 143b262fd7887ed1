// --lora NAME_OR_FILE[:SCALE] and <lora:…> prompt tags in the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { parseCliArgs, parseLoraSpec, UsageError } from '../src/cli-args.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../..');
const KOHYA = join(ROOT, 'test/fixtures/lora/tiny-sd15-lora.kohya.safetensors');

test('--lora takes names (LORA_DIR) and files, with an optional scale, repeatable', () => {
  const saved = process.env.LORA_DIR;
  process.env.LORA_DIR = '/srv/loras';
  try {
    assert.deepEqual(parseLoraSpec('ink', '/work'), { name: 'ink', file: '/srv/loras/ink.safetensors', scale: 1 });
    assert.deepEqual(parseLoraSpec('styles/ink:0.6', '/work'), { name: 'styles/ink', file: '/srv/loras/styles/ink.safetensors', scale: 0.6 });
    assert.deepEqual(parseLoraSpec('my.safetensors:-1', '/work'), { name: null, file: '/work/my.safetensors', scale: -1 });
    assert.throws(() => parseLoraSpec('ink:9'), UsageError);
    assert.throws(() => parseLoraSpec('../x'), UsageError);
    const opts = parseCliArgs(['--model', 'm', '--prompt', 'p', '--out', 'o.png', '--lora', 'a', '--lora', 'b:.5'], '/work');
    assert.deepEqual(opts.loras.map((l) => [l.name, l.scale]), [['a', 1], ['b', 0.5]]);
  } finally {
    if (saved === undefined) delete process.env.LORA_DIR; else process.env.LORA_DIR = saved;
  }
});

test('a LoRA file and the same LoRA by prompt tag give the same image, unlike no LoRA', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-cli-lora-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'loras'));
  await copyFile(KOHYA, join(dir, 'loras', 'ink.safetensors'));
  const cli = (args: string[]) => run(join(ROOT, 'scripts/node'), [join(ROOT, 'apps/cli/src/generate.ts'), ...args], {
    cwd: ROOT, env: { ...process.env, INIT_CWD: dir, LORA_DIR: 'loras' },
  });
  const common = ['--model', join(ROOT, 'models/tiny-sd15'), '--steps', '2', '--seed', '4'];
  const byFile = await cli([...common, '--prompt', 'a castle', '--lora', `${KOHYA}:0.5`, '--out', 'file.png']);
  assert.match(byFile.stderr, /lora merge: .*:0\.5 into tiny-sd15: 40 weights/);
  await cli([...common, '--prompt', 'a castle <lora:ink:0.5>', '--out', 'tag.png']);
  await cli([...common, '--prompt', 'a castle', '--out', 'plain.png']);
  const px = async (f: string) => (await sharp(join(dir, f)).raw().toBuffer());
  assert.deepEqual(await px('tag.png'), await px('file.png'));
  assert.notDeepEqual(await px('plain.png'), await px('file.png'));
  await assert.rejects(cli([...common, '--prompt', 'x', '--lora', 'missing', '--out', 'x.png']), (e: { stderr: string; code: number }) =>
    e.code === 2 && /no file .*missing\.safetensors/.test(e.stderr));
});
