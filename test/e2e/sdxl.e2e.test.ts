// An SDXL job through the real processes: API (SDXL fields validated and echoed) → queue → worker
// → engine thread on tiny-sdxl → S3. With no negative_prompt the job must match diffusers'
// StableDiffusionXLPipeline run with negative_prompt=None (zero negative embeddings) within 2/255:
// "none" survives the API, the job record and the worker's request building.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { startE2eStack, type E2eStack } from '../support/e2e-stack.ts';

const GOLDEN_PNG = fileURLToPath(new URL('../fixtures/parity/sdxl/sdxl_txt2img_euler/image_0.png', import.meta.url));

describe('SDXL end to end', { timeout: 180_000 }, () => {
  let stack: E2eStack;
  before(async () => { stack = await startE2eStack(); });
  after(async () => { await stack?.stop(); });

  test('a tiny-sdxl txt2img job without a negative prompt gives diffusers\' image', async () => {
    await stack.startWorker();
    const job = await stack.postJob({
      model: 'tiny-sdxl', prompt: 'a photo of an astronaut riding a horse', steps: 10, guidance_scale: 5, seed: 0,
      width: 64, height: 64, crops_coords_top_left: { top: 0, left: 0 },
    });
    assert.ok(!('negative_prompt' in job.params), 'no negative prompt in params');
    assert.deepEqual(job.params.original_size, { width: 64, height: 64 });
    const done = await stack.waitForJob(job.id, (j) => ['succeeded', 'failed', 'canceled'].includes(j.status), 'finished');
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const res = await fetch(done.result!.images[0]!.url);
    assert.equal(res.status, 200);
    const got = await sharp(Buffer.from(await res.arrayBuffer())).removeAlpha().raw().toBuffer();
    const want = await sharp(GOLDEN_PNG).removeAlpha().raw().toBuffer();
    assert.equal(got.length, want.length);
    let d = 0;
    for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i]! - want[i]!));
    assert.ok(d <= 2, `image differs from diffusers' by ${d}/255`);
  });
});
