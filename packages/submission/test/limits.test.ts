// Cost limits per model and the active-job quota's Redis bookkeeping (atomic reserve, lazy
// reconcile of finished jobs and of reservations whose record never appeared).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { HttpProblem } from '@sdsvc/contracts';
import { JobStore } from '@sdsvc/jobs';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { activeJobsKey, checkCostLimits, limitsFor, reserveActiveSlot } from '../src/index.ts';
import { RESERVATION_GRACE_MS } from '../src/limits.ts';

let server: TestRedis;
let redis: Redis;
let store: JobStore;
before(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url);
  store = new JobStore(redis, { prefix: 'lt' });
});
after(async () => {
  await store.close();
  redis.disconnect();
  await server.stop();
});

test('limitsFor: MODEL_LIMITS over the globals over the defaults (4 × native pixels, 150 steps, 8 images)', () => {
  const sd15 = { id: 'sd15', nativeSize: 512 };
  assert.deepEqual(limitsFor({}, sd15), { maxOutputPixels: 4 * 512 * 512, maxSteps: 150, maxNumImages: 8 });
  assert.deepEqual(limitsFor({ maxSteps: 50, maxNumImages: 4, maxOutputPixels: 1000 }, sd15), { maxOutputPixels: 1000, maxSteps: 50, maxNumImages: 4 });
  assert.deepEqual(limitsFor({ maxSteps: 50, modelLimits: { sd15: { maxSteps: 8 } } }, sd15), { maxOutputPixels: 4 * 512 * 512, maxSteps: 8, maxNumImages: 8 });
  assert.equal(limitsFor({ modelLimits: { other: { maxSteps: 8 } } }, sd15).maxSteps, 150);
});

test('checkCostLimits names the first limit a job is over', () => {
  const limits = { maxOutputPixels: 100, maxSteps: 10, maxNumImages: 2 };
  const over = (job: Partial<{ width: number; height: number; steps: number; numImages: number }>) => {
    try {
      checkCostLimits(limits, { width: 10, height: 10, steps: 10, numImages: 2, model: 'm', ...job });
      return null;
    } catch (err) {
      assert.ok(err instanceof HttpProblem);
      assert.equal(err.code, 'limit_exceeded');
      return err.errors?.[0]?.message.split(':')[0];
    }
  };
  assert.equal(over({}), null);
  assert.equal(over({ width: 11 }), 'max_output_pixels');
  assert.equal(over({ steps: 11 }), 'max_steps');
  assert.equal(over({ numImages: 3 }), 'max_num_images');
});

test('reserveActiveSlot: atomic under concurrency; finished and vanished jobs are dropped when counting', async () => {
  const owner = 'o1';
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => reserveActiveSlot(redis, 'lt', owner, `j${i}`, 3)));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as HttpProblem).code, 'quota_exceeded');
  const held = await redis.zrange(activeJobsKey('lt', owner), 0, -1);
  assert.equal(held.length, 3);

  // A reservation whose record never appeared stays during the grace period, then is dropped.
  await assert.rejects(reserveActiveSlot(redis, 'lt', owner, 'x1', 3), (e: HttpProblem) => e.code === 'quota_exceeded');
  assert.equal(await reserveActiveSlot(redis, 'lt', owner, 'x2', 3, Date.now() + RESERVATION_GRACE_MS + 1000), 1);

  // A job with a record counts while queued or running; its terminal status frees the slot.
  await store.create({ id: 'r1', type: 'txt2img', model: 'm', params: {} as never, metadata: null, webhook: null, owner: 'o2' });
  assert.equal(await reserveActiveSlot(redis, 'lt', 'o2', 'r1', 1), 1);
  await assert.rejects(reserveActiveSlot(redis, 'lt', 'o2', 'r2', 1), (e: HttpProblem) => e.code === 'quota_exceeded' && e.headers['retry-after'] === '5');
  await store.markCanceled('r1');
  assert.equal(await reserveActiveSlot(redis, 'lt', 'o2', 'r2', 1), 1);
  assert.ok((await redis.ttl(activeJobsKey('lt', 'o2'))) > 0, 'the set expires');
});
