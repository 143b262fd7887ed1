// BATCH_MAX_JOBS through the engine host: concurrent compatible generate calls run as one batch on
// the engine thread, each with its own progress, cancel and result (the image it gets alone).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineHost } from '../src/runtime/engine-host.ts';
import type { GenerateRequest } from '../src/pipelines/types.ts';
import { MODELS_DIR } from './support/pipeline-golden.ts';

let host: EngineHost;
before(async () => {
  host = await EngineHost.start({ modelsDir: MODELS_DIR, intraOpNumThreads: 1, warmup: false, log: () => {}, batchMaxJobs: 3, batchWaitMs: 0 });
});
after(() => host.close());

const req = (i: number, over: Partial<GenerateRequest> = {}): GenerateRequest => ({
  mode: 'txt2img', prompt: `a red apple, take ${i}`, width: 64, height: 64, steps: 5, guidanceScale: 4 + i, scheduler: 'euler_a', seed: 40 + i, numImages: 1, ...over,
});

test('three compatible jobs run as one batch; each gets its solo image and its own progress', async () => {
  const steps: number[][] = [[], [], []];
  const sentBefore = host.batches!.sent.length;
  const results = await Promise.all([0, 1, 2].map((i) => host.generate('tiny-sd15', req(i), { onStep: (s) => steps[i]!.push(s) })));
  assert.deepEqual(host.batches!.sent.slice(sentBefore), [3]);
  for (const [i, r] of results.entries()) {
    assert.deepEqual(steps[i], [1, 2, 3, 4, 5]);
    const alone = await host.generateOne('tiny-sd15', req(i));
    assert.deepEqual(r.images[0]!.data, alone.images[0]!.data, `job ${i}`);
  }
});

test('cancelling one job of a batch stops it at the next step; the others finish', async () => {
  const controller = new AbortController();
  const runs = [0, 1, 2].map((i) => host.generate('tiny-sd15', req(i, { steps: 8 }), {
    ...(i === 1 ? { signal: controller.signal, onStep: (s: number) => { if (s === 2) controller.abort(); } } : {}),
  }));
  const settled = await Promise.allSettled(runs);
  assert.equal(settled[1]!.status, 'rejected');
  assert.equal((settled[1] as PromiseRejectedResult).reason.name, 'AbortError');
  assert.equal(settled[0]!.status, 'fulfilled');
  assert.equal(settled[2]!.status, 'fulfilled');
});

test('incompatible jobs are not batched together; a job aborted before it is sent never runs', async () => {
  const sentBefore = host.batches!.sent.length;
  const controller = new AbortController();
  const a = host.generate('tiny-sd15', req(0, { steps: 2 }));
  const b = host.generate('tiny-sd15', req(1, { steps: 3 }));
  const c = host.generate('tiny-sd15', req(2, { steps: 4 }), { signal: controller.signal });
  controller.abort();
  const [ra, rb, rc] = await Promise.allSettled([a, b, c]);
  assert.equal(ra.status, 'fulfilled');
  assert.equal(rb.status, 'fulfilled');
  assert.equal(rc.status, 'rejected');
  assert.deepEqual(host.batches!.sent.slice(sentBefore), [1, 1]);
});
