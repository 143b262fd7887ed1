// The engine thread: the main event loop keeps running while steps compute, progress arrives per
// step, cancel stops a job between steps, and the pipeline is reused for the next job.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineHost } from '../src/runtime/engine-host.ts';
import type { GenerateRequest } from '../src/pipelines/types.ts';
import { MODELS_DIR } from './support/pipeline-golden.ts';
import { ENGINE_CRASH_HOOK } from '../../../test/support/service-process.ts';

const host = await EngineHost.start({ modelsDir: MODELS_DIR, intraOpNumThreads: 1, warmup: false, log: () => {} });
after(() => host.close());

const request: GenerateRequest = {
  mode: 'txt2img', prompt: 'a red apple', width: 128, height: 128, steps: 12, guidanceScale: 7.5,
  scheduler: 'euler_a', seed: 3, numImages: 1,
};

test('the main event loop keeps ticking between steps of a running job', async () => {
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 0);
  const ticksAtStep: number[] = [];
  const result = await host.generate('tiny-sd15', request, { onStep: (step, total) => { ticksAtStep.push(ticks); assert.equal(total, 12); } });
  clearInterval(timer);
  assert.equal(ticksAtStep.length, 12, 'one progress message per step');
  assert.equal(result.images.length, 1);
  assert.equal(result.images[0]!.data.length, 128 * 128 * 3);
  assert.equal(result.images[0]!.seed, 3);
  // Timer callbacks ran while the job was between its first and last step: the loop was free.
  assert.ok(ticksAtStep.at(-1)! > ticksAtStep[0]!, `timer ticks during the job: ${ticksAtStep.join(',')}`);
});

test('the same seed gives the same image through the engine thread', async () => {
  const a = await host.generate('tiny-sd15', { ...request, steps: 3 });
  const b = await host.generate('tiny-sd15', { ...request, steps: 3 });
  assert.deepEqual(a.images[0]!.data, b.images[0]!.data);
});

test('abort mid-run rejects with AbortError, and the engine keeps working', async () => {
  const controller = new AbortController();
  let lastStep = 0;
  await assert.rejects(
    host.generate('tiny-sd15', { ...request, steps: 30 }, {
      signal: controller.signal,
      onStep: (step) => { lastStep = step; if (step === 2) controller.abort(); },
    }),
    (err: Error) => err.name === 'AbortError',
  );
  assert.ok(lastStep >= 2 && lastStep < 30, `stopped early (last step ${lastStep})`);
  const ok = await host.generate('tiny-sd15', { ...request, steps: 2 });
  assert.equal(ok.images.length, 1);
});

test('an already aborted signal rejects at once; unknown models are named', async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(host.generate('tiny-sd15', request, { signal: controller.signal }), { name: 'AbortError' });
  await assert.rejects(host.generate('no-such-model', request), /unknown model "no-such-model"/);
});

test('a dead engine thread rejects the job in flight as EngineThreadDiedError, restarts and reloads its models', async () => {
  const crashFile = join(tmpdir(), `sdsvc-engine-crash-${process.pid}-a`);
  process.env.SDSVC_TEST_ENGINE_CRASH_FILE = crashFile; // read by threads started from now on
  const h = await EngineHost.start({ modelsDir: MODELS_DIR, intraOpNumThreads: 1, warmup: false, restartBackoffMs: 10, log: () => {}, execArgv: [`--import=${ENGINE_CRASH_HOOK}`] });
  try {
    await h.preload('tiny-sd15');
    assert.ok(h.hasLoaded('tiny-sd15'));
    writeFileSync(crashFile, '');
    await assert.rejects(h.generate('tiny-sd15', { ...request, steps: 2 }), { name: 'EngineThreadDiedError' });
    assert.equal(h.isAlive(), false, 'dead until the restart');
    const again = await h.generate('tiny-sd15', { ...request, steps: 2 }); // waits for the new thread
    assert.equal(again.images.length, 1);
    assert.ok(h.isAlive());
    assert.ok(h.hasLoaded('tiny-sd15'), 'preloaded again on the new thread');
  } finally {
    delete process.env.SDSVC_TEST_ENGINE_CRASH_FILE;
    await h.close();
  }
});

test('after too many deaths the host gives up and reports it', async () => {
  const crashFile = join(tmpdir(), `sdsvc-engine-crash-${process.pid}-b`);
  process.env.SDSVC_TEST_ENGINE_CRASH_FILE = crashFile;
  let fatal: Error | undefined;
  const h = await EngineHost.start({
    modelsDir: MODELS_DIR, intraOpNumThreads: 1, warmup: false, restartBackoffMs: 10, maxRestarts: 1,
    onFatal: (err) => { fatal = err; }, log: () => {}, execArgv: [`--import=${ENGINE_CRASH_HOOK}`],
  });
  try {
    for (let i = 0; i < 2; i++) {
      writeFileSync(crashFile, '');
      await assert.rejects(h.generate('tiny-sd15', { ...request, steps: 1 }), { name: 'EngineThreadDiedError' });
    }
    assert.ok(fatal, 'onFatal called after the second death');
    assert.equal(h.isAlive(), false);
    await assert.rejects(h.generate('tiny-sd15', { ...request, steps: 1 }));
  } finally {
    delete process.env.SDSVC_TEST_ENGINE_CRASH_FILE;
    await h.close();
  }
});
