// The service end to end, as deployed: API and workers as separate processes, a private Redis,
// a real S3-protocol store, signed webhooks to a loopback receiver. The stack (API, Redis, S3,
// receiver) is shared; every test starts the workers it needs and stops them, so the tests do not
// depend on each other's order. Where a test needs a job to be still running when it acts, the
// workers hold each denoising step (slowStepsEnv, a documented test hook), so the premise holds on
// any machine instead of depending on its speed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { startE2eStack, type E2eStack } from '../support/e2e-stack.ts';
import { startS3 } from '../support/s3.ts';
import { slowStepsEnv, unetRuns, unetRunsOfJob, type ServiceProcess } from '../support/service-process.ts';
import { readPng } from '../support/png.ts';
import { collectSse, type SseEvent } from '../support/sse.ts';
import { blurMask, decodeMask } from '@sdsvc/images';
import { centreSquareMaskPng, gradientPng } from '../support/test-images.ts';
import { waitFor } from '../support/wait-for.ts';

const TERMINAL = ['succeeded', 'failed', 'canceled'];

/** Black (keep) with a white (repaint) rectangle. */
async function squareMaskPng(width: number, height: number, r: { x1: number; y1: number; x2: number; y2: number }): Promise<Buffer> {
  const data = Buffer.alloc(width * height);
  for (let y = r.y1; y < r.y2; y++) data.fill(255, y * width + r.x1, y * width + r.x2);
  return await sharp(data, { raw: { width, height, channels: 1 } }).png().toBuffer();
}
/** Each UNet evaluation held this long by the test hook: a job of n steps runs at least n × this. */
const STEP_MS = 150;
/** 96×96 (12×12 latents) so the hook's log tells its UNet runs from the 64×64 jobs' (8×8). */
const LONG_JOB = { prompt: 'a long job', width: 96, height: 96, steps: 60, num_images: 1, seed: 9, scheduler: 'euler' };
const sortedTypes = (hooks: Array<{ type: string }>) => hooks.map((h) => h.type).sort();

describe('service end to end (API and worker processes)', { timeout: 300_000 }, () => {
  let stack: E2eStack;
  before(async () => { stack = await startE2eStack(); });
  after(async () => { await stack?.stop(); });

  /** Runs `fn` with freshly started workers (one per env) and stops them afterwards. */
  async function withWorkers<T>(envs: Array<Record<string, string>>, fn: (workers: ServiceProcess[]) => Promise<T>): Promise<T> {
    const workers: ServiceProcess[] = [];
    try {
      for (const env of envs) workers.push(await stack.startWorker(env));
      return await fn(workers);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }
  /** The job's webhook messages received so far, once `type` is among them. */
  const hooksOnce = (id: string, type: string) => waitFor(() => {
    const mine = stack.hooks.received.filter((h) => h.payload.data.id === id);
    return mine.some((h) => h.type === type) ? mine : undefined;
  }, { what: `${type} webhook of ${id}` });

  test('txt2img: SSE order, signed webhooks, PNG with parameters via the returned URL', async () => {
    // No worker yet: the job is certainly queued when the SSE client connects.
    const job = await stack.postJob({
      type: 'txt2img', prompt: 'a red (lighthouse:1.2) at dusk', negative_prompt: 'blurry',
      width: 64, height: 64, steps: 4, seed: 1234, metadata: { order: 'a-1' },
      webhook: { url: stack.hooks.url },
    });
    assert.equal(job.status, 'queued');
    const sse = collectSse(`${stack.baseUrl}/v1/jobs/${job.id}/events`);
    // Webhook delivery runs in worker processes too: this one stays until the attempts are recorded.
    await withWorkers([{}], async () => {
      const events: SseEvent[] = await sse;

      const types = events.map((e) => e.event);
      assert.equal(types[0], 'queued', `events: ${types.join(',')}`);
      assert.equal(types[1], 'started', `events: ${types.join(',')}`);
      assert.equal(types.at(-1), 'succeeded', `events: ${types.join(',')}`);
      const progress = events.filter((e) => e.event === 'progress');
      // Every denoising step, in order (a scheduler may run one more step than asked: PNDM's PLMS).
      const steps = progress.map((e) => (e.data as { job: { progress: { step: number; total: number } } }).job.progress);
      assert.ok(steps.length >= 4, `progress events: ${steps.length}`);
      assert.deepEqual(steps.map((p) => p.step), steps.map((_, i) => i + 1));
      assert.equal(steps.at(-1)!.step, steps.at(-1)!.total);
      const seqs = events.map((e) => (e.data as { seq: number }).seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'seq increases');

      const done = await stack.getJob(job.id);
      assert.equal(done.status, 'succeeded');
      assert.equal(done.result!.images.length, 1);
      const img = done.result!.images[0];
      assert.equal(img.seed, 1234);
      assert.equal(img.content_type, 'image/png');
      assert.match(img.key, new RegExp(`${job.id}/0\\.png$`));

      const res = await fetch(img.url);
      assert.equal(res.status, 200);
      const png = Buffer.from(await res.arrayBuffer());
      assert.equal(png.length, img.bytes);
      const info = readPng(png);
      assert.deepEqual([info.width, info.height], [64, 64]);
      assert.match(info.text.parameters ?? '', /a red \(lighthouse:1\.2\) at dusk/);
      assert.match(info.text.parameters ?? '', /Seed: 1234/);

      const hooks = await hooksOnce(job.id, 'job.succeeded');
      assert.deepEqual(stack.hooks.rejected, [], 'every delivery verified');
      // Deliveries run concurrently, so arrival order is not guaranteed: compare the set.
      assert.deepEqual(sortedTypes(hooks), ['job.started', 'job.succeeded']);
      const succeeded = hooks.find((h) => h.type === 'job.succeeded')!.payload.data as unknown as { status: string; metadata: unknown; result: { images: unknown[] } };
      assert.equal(succeeded.status, 'succeeded');
      assert.deepEqual(succeeded.metadata, { order: 'a-1' });
      assert.equal(succeeded.result.images.length, 1);
      // The delivering worker recorded every attempt on the job.
      const attempts = (await waitFor(async () => {
        const a = (await stack.getJob(job.id)).webhook?.attempts ?? [];
        return a.length >= 2 ? a : undefined;
      }, { what: 'webhook attempts on the job' })) as Array<{ event: string; ok: boolean; status?: number }>;
      assert.deepEqual(attempts.map((a) => `${a.event}:${a.ok}:${a.status}`).sort(), ['job.started:true:204', 'job.succeeded:true:204']);
    });
  });

  test('img2img and inpaint (4- and 9-channel models, blurred masks, inpaint_full_res) through API, queue, worker and storage', async () => {
    const initPng = await gradientPng(64, 64);
    const init = initPng.toString('base64');
    const maskPng = await centreSquareMaskPng(64, 64);
    const mask = maskPng.toString('base64');
    // A wide image with a small mask off-centre: inpaint_full_res crops around it.
    const widePng = await gradientPng(96, 64);
    const smallMaskPng = await squareMaskPng(96, 64, { x1: 60, y1: 20, x2: 76, y2: 36 });
    const img2img = await stack.postJob({ type: 'img2img', prompt: 'a painting', init_image: init, strength: 0.6, steps: 5, seed: 3 });
    // The default (4-channel) model: diffusers' blend path.
    const inpaint = await stack.postJob({
      type: 'inpaint', prompt: 'a red square', init_image: init, mask_image: `data:image/png;base64,${mask}`,
      steps: 4, seed: 5, mask_blur: 3,
    });
    // The 9-channel inpainting UNet (latents + mask + masked-image latents).
    const inpaint9 = await stack.postJob({
      type: 'inpaint', model: 'tiny-sd15-inpaint', prompt: 'a red square', init_image: init, mask_image: mask,
      steps: 4, seed: 6, mask_blur: 4,
    });
    // "Inpaint only masked": the region around the mask is generated at 64×64 and pasted back into
    // the 96×64 original.
    const fullRes = await stack.postJob({
      type: 'inpaint', model: 'tiny-sd15-inpaint', prompt: 'a red square', init_image: widePng.toString('base64'),
      mask_image: smallMaskPng.toString('base64'), width: 64, height: 64, steps: 4, seed: 7, mask_blur: 2,
      inpaint_full_res: true, inpaint_full_res_padding: 4,
    });
    await withWorkers([{}], async ([worker]) => {
      const cases = [
        { name: 'img2img', job: img2img, size: [64, 64] },
        { name: 'inpaint tiny-sd15', job: inpaint, size: [64, 64], original: initPng, mask: maskPng, blur: 3 },
        { name: 'inpaint tiny-sd15-inpaint', job: inpaint9, size: [64, 64], original: initPng, mask: maskPng, blur: 4 },
        { name: 'inpaint_full_res tiny-sd15-inpaint', job: fullRes, size: [96, 64], original: widePng, mask: smallMaskPng, blur: 2 },
      ];
      for (const { name, job, size, original, mask: maskBytes, blur } of cases) {
        const done = await stack.waitForJob(job.id, (j) => TERMINAL.includes(j.status), 'to finish');
        assert.equal(done.status, 'succeeded', `${name}: ${JSON.stringify(done.error)}\n${worker.tail(5)}`);
        assert.equal((done as typeof done & { model?: string }).model, name.includes('tiny-sd15-inpaint') ? 'tiny-sd15-inpaint' : 'tiny-sd15');
        const png = Buffer.from(await (await fetch(done.result!.images[0].url)).arrayBuffer());
        const info = readPng(png);
        assert.deepEqual([info.width, info.height], size);
        assert.match(info.text.parameters ?? '', /Denoising strength/);
        if (job === fullRes) assert.match(info.text.parameters ?? '', /Size: 64x64, .*Inpaint area: Only masked, Masked area padding: 4/);
        if (!original || !maskBytes) continue;
        // A1111 overlay: wherever the blurred mask is 0 the original pixels come back byte for byte;
        // the repainted part does change.
        const [w, h] = size;
        const blurred = await blurMask(await decodeMask(maskBytes, { maxPixels: 1e6, width: w, height: h }), blur!);
        const out = await sharp(png).raw().toBuffer();
        const orig = await sharp(original).raw().toBuffer();
        let kept = 0, changed = 0;
        for (let p = 0; p < w * h; p++) {
          const same = out[p * 3] === orig[p * 3] && out[p * 3 + 1] === orig[p * 3 + 1] && out[p * 3 + 2] === orig[p * 3 + 2];
          if (blurred.data[p] === 0) {
            assert.ok(same, `${name}: pixel ${p % w},${Math.floor(p / w)} outside the mask changed`);
            kept++;
          } else if (blurred.data[p] === 255 && !same) changed++;
        }
        assert.ok(kept > w * h / 3, `${name}: kept ${kept}`);
        assert.ok(changed > 0, `${name}: the masked area was repainted`);
      }
    });
  });

  test('cancel a running job: the engine stops between steps, the job ends canceled and its progress freezes', async () => {
    await withWorkers([slowStepsEnv(STEP_MS)], async ([worker]) => {
      const job = await stack.postJob({ ...LONG_JOB, webhook: { url: stack.hooks.url, events: ['job.canceled'] } });
      await stack.waitForJob(job.id, (j) => j.status === 'running' && j.progress.step >= 1, 'to be running');
      const res = await fetch(`${stack.baseUrl}/v1/jobs/${job.id}/cancel`, { method: 'POST' });
      // Running (202) is the state this test set up; a job that already ended would be 409.
      assert.equal(res.status, 202, `cancel → ${res.status} ${await res.clone().text()}`);
      const done = await stack.waitForJob(job.id, (j) => TERMINAL.includes(j.status), 'to end');
      assert.equal(done.status, 'canceled');
      assert.equal(done.result, null);
      assert.ok(done.progress.step < done.progress.total, `stopped early (${done.progress.step}/${done.progress.total})`);
      await worker.waitForLog((l) => l.job_id === job.id && l.msg === 'job canceled', 'job canceled log');
      await waitFor(() => stack.hooks.received.find((h) => h.payload.data.id === job.id && h.type === 'job.canceled'), { what: 'job.canceled webhook' });

      // The worker is free again, and the engine really stopped: its thread runs one generation at a
      // time, so once the next job's UNet runs are logged every run the canceled job would ever make
      // is logged before them. A worker that only marked the record would have run all of its steps.
      const next = await stack.postJob({ prompt: 'after cancel', width: 64, height: 64, steps: 2, scheduler: 'euler' });
      assert.equal((await stack.waitForJob(next.id, (j) => TERMINAL.includes(j.status), 'to finish')).status, 'succeeded');
      await worker.waitForLog((l) => l.msg === 'test hook: unet run' && String(l.dims) === '2,4,8,8' && unetRunsOfJob(worker, next.id).length > 0, 'the next job on the engine');
      const nextStarted = unetRunsOfJob(worker, next.id)[0]!.at;
      const canceledRuns = unetRunsOfJob(worker, job.id, nextStarted);
      assert.ok(canceledRuns.every((r) => String(r.dims) === '2,4,12,12'), 'the canceled job\'s runs');
      assert.ok(canceledRuns.length >= done.progress.step, `${canceledRuns.length} UNet runs for ${done.progress.step} steps`);
      // After the last recorded progress only the step in flight when the flag was seen may finish
      // (one more of slack: a progress write can still be on its way when the job is marked
      // canceled). A worker that kept computing would run all 60.
      assert.ok(canceledRuns.length <= done.progress.step + 2, `the engine kept computing: ${canceledRuns.length} runs, canceled at step ${done.progress.step}/${done.progress.total}`);
      assert.ok(unetRuns(worker).every((r) => r.at < nextStarted || String(r.dims) !== '2,4,12,12'), 'no step of the canceled job after the next job started');
      assert.deepEqual((await stack.getJob(job.id)).progress, done.progress, 'progress frozen after cancel');
    });
  });

  test('SIGTERM mid-job (no grace): the job is handed back and completes on another worker exactly once', async () => {
    // SHUTDOWN_GRACE_MS=0 (stack env): the running job is handed back at once. 40 held steps keep it
    // running long after the first one, whatever the machine.
    await withWorkers([slowStepsEnv(STEP_MS)], async ([first]) => {
      const job = await stack.postJob({ ...LONG_JOB, steps: 40, webhook: { url: stack.hooks.url } });
      await stack.waitForJob(job.id, (j) => j.status === 'running' && j.progress.step >= 1, 'to be running');
      const exit = await first.stop('SIGTERM');
      assert.equal(exit.code, 0, `worker exit ${JSON.stringify(exit)}\n${first.tail()}`);
      assert.ok(first.logs.some((l) => l.job_id === job.id && /handed back/.test(String(l.msg))), first.tail());
      const requeued = await stack.getJob(job.id);
      assert.equal(requeued.status, 'queued', 'back in the queue, not failed');

      await withWorkers([{}], async ([second]) => {
        const done = await stack.waitForJob(job.id, (j) => TERMINAL.includes(j.status), 'to finish on the second worker');
        assert.equal(done.status, 'succeeded');
        assert.equal(done.result!.images.length, 1);
        const hooks = await hooksOnce(job.id, 'job.succeeded');
        // One message per (job, event): the second start is not announced twice.
        assert.deepEqual(sortedTypes(hooks), ['job.started', 'job.succeeded']);
        // Ran to completion once, on the second worker; the first one only handed it back.
        const completions = [first, second].flatMap((w) => w.logs.filter((l) => l.job_id === job.id && l.msg === 'job succeeded').map(() => w.child.pid));
        assert.deepEqual(completions, [second.child.pid]);
      });
    });
  });

  test('SIGTERM mid-job within SHUTDOWN_GRACE_MS: the worker finishes the job, then exits 0', async () => {
    // A grace period far longer than the rest of the job (8 held steps): it must finish here.
    await withWorkers([{ ...slowStepsEnv(STEP_MS), SHUTDOWN_GRACE_MS: '120000' }], async ([worker]) => {
      const job = await stack.postJob({ ...LONG_JOB, steps: 8 });
      await stack.waitForJob(job.id, (j) => j.status === 'running' && j.progress.step >= 1, 'to be running');
      const exit = await worker.stop('SIGTERM');
      assert.equal(exit.code, 0, `worker exit ${JSON.stringify(exit)}\n${worker.tail()}`);
      const done = await stack.getJob(job.id);
      assert.equal(done.status, 'succeeded', `finished before exiting: ${JSON.stringify(done)}`);
      assert.equal(done.progress.step, done.progress.total);
      assert.equal(done.attempts, 1);
      assert.ok(!worker.logs.some((l) => /handed back/.test(String(l.msg))), worker.tail());
      assert.ok(worker.logs.some((l) => l.job_id === job.id && l.msg === 'job succeeded'), worker.tail());
    });
  });

  test('storage down: the upload fails, is retried with the queue backoff, then the job fails storage_unavailable', async () => {
    // This worker writes to its own S3 server, stopped before the job is submitted: no race with the
    // job's speed, and the shared store stays up for the other tests (txt2img reads no inputs).
    const ownS3 = await startS3({ bucket: 'outage' });
    let stopped = false;
    try {
      await withWorkers([ownS3.env], async ([worker]) => {
        await ownS3.stop();
        stopped = true;
        const job = await stack.postJob({ prompt: 'nowhere to go', width: 64, height: 64, steps: 2, seed: 3 });
        const done = await stack.waitForJob(job.id, (j) => TERMINAL.includes(j.status), 'to fail', 120_000);
        assert.equal(done.status, 'failed', worker.tail(10));
        assert.equal(done.error?.code, 'storage_unavailable');
        assert.match(done.error!.message, /storage/);
        assert.equal(done.attempts, 2, 'JOB_ATTEMPTS=2 attempts, visible on the job');
        // The retry was scheduled by BullMQ's exponential backoff from 2 s (the queue's job options).
        const redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
        try {
          const opts = JSON.parse((await redis.hget(`sdsvc:bull:generate.tiny-sd15:${job.id}`, 'opts')) ?? '{}') as { attempts?: number; backoff?: unknown };
          assert.equal(opts.attempts, 2);
          assert.deepEqual(opts.backoff, { type: 'exponential', delay: 2000 });
        } finally {
          redis.disconnect();
        }
        const retried = worker.logs.filter((l) => l.job_id === job.id && l.msg === 'job attempt failed; will retry');
        assert.equal(retried.length, 1, worker.tail(10));
      });
    } finally {
      if (!stopped) await ownS3.stop();
    }
  });
});
