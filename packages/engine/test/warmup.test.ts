// WARMUP_SIZES: a model warms up at the sizes asked for (default its native size), skips sizes it
// refuses, and an empty list skips warm-up; the VAE graphs run without ORT's arena.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import { graphWeightBytes, sumBytes } from '../src/models/weight-bytes.ts';
import { MODELS_DIR } from './support/pipeline-golden.ts';

const dir = join(MODELS_DIR, 'tiny-sd15');

async function load(warmupSizes?: Array<{ width: number; height: number }>) {
  const logs: string[] = [];
  const pipe = await StableDiffusionPipeline.load(dir, { intraOpNumThreads: 1, ...(warmupSizes ? { warmupSizes } : {}), log: (m) => logs.push(m) });
  await pipe.release();
  return logs.filter((m) => m.startsWith('warm-up'));
}

test('warm-up runs at the native size by default, at each size asked for, and not at all for an empty list', async () => {
  const native = await load();
  assert.equal(native.length, 1);
  assert.match(native[0]!, /^warm-up of tiny-sd15 at 64x64: \d+ ms$/);
  const sized = await load([{ width: 64, height: 64 }, { width: 96, height: 64 }, { width: 65, height: 64 }]);
  assert.equal(sized.length, 3);
  assert.match(sized[0]!, /at 64x64: \d+ ms/);
  assert.match(sized[1]!, /at 96x64: \d+ ms/);
  assert.match(sized[2]!, /at 65x64 skipped: width must be a multiple of/);
  assert.deepEqual(await load([]), []);
});

test('weight bytes are counted per graph folder', async () => {
  const graphs = await graphWeightBytes(dir);
  assert.deepEqual(Object.keys(graphs).sort(), ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder']);
  for (const n of Object.values(graphs)) assert.ok(n > 0);
  assert.equal(sumBytes(graphs, ['unet']), graphs.unet);
});
