// The reconciler on real parts (private Redis, BullMQ queue, file store): a record with no queue
// entry is queued again; one the queue failed without our processor ends worker_lost (or canceled
// when a cancel was asked); jobs past RESULT_TTL are deleted with their objects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { GenerateQueue, JobStore } from '@sdsvc/jobs';
import { createLogger } from '@sdsvc/logging';
import { FileObjectStore } from '@sdsvc/storage';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { newRecord } from '../../../packages/jobs/test/helpers.ts';
import { reconcileOnce, type ReconcilerDeps } from '../src/reconciler.ts';

let server: TestRedis;
let redis: Redis;
let store: JobStore;
let queue: GenerateQueue;
let objects: FileObjectStore;
let deps: ReconcilerDeps;

before(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  store = new JobStore(redis, { prefix: 'r', ttlSeconds: 3600 });
  queue = new GenerateQueue(redis, { prefix: 'r', attempts: 3 });
  objects = await FileObjectStore.open({ root: await mkdtemp(join(tmpdir(), 'sdsvc-reconciler-')), publicBaseUrl: 'http://x.test', secret: 'test-secret-0123456789' });
  deps = { redis, store, queue, objects, logger: createLogger({ level: 'silent' }), maxRecoveries: 2, minAgeMs: 0 };
});
after(async () => {
  await queue.close();
  await store.close();
  redis.disconnect();
  await server.stop();
});

test('a record whose queue entry never got written (the API died after writing the record) is queued again', async () => {
  await store.create(newRecord('lost-1'));
  assert.equal((await queue.inspect('lost-1', 'tiny-sd15')).state, 'gone');
  const report = await reconcileOnce(deps);
  assert.equal(report.requeued, 1);
  assert.equal((await queue.inspect('lost-1', 'tiny-sd15')).state, 'waiting');
  const rec = await store.get('lost-1');
  assert.equal(rec?.status, 'queued');
  assert.equal(rec?.recoveries, 1);
  // Its entry exists now: the next pass leaves it alone.
  assert.equal((await reconcileOnce(deps)).requeued, 0);
});

test('a running record whose queue entry failed (stalled too often) ends failed with worker_lost; a canceled one ends canceled', async () => {
  for (const id of ['lost-2', 'lost-3']) {
    await store.create(newRecord(id));
    await queue.add(id, { jobId: id, model: 'tiny-sd15' });
    await store.markRunning(id, { total: 4, attempt: 1, attemptId: 'A' });
    const job = await queue.queueFor('tiny-sd15').getJob(id);
    // What BullMQ does to a job that stalled more than allowed, without calling the processor.
    await redis.multi().lrem('r:bull:generate.tiny-sd15:wait', 0, id).zadd('r:bull:generate.tiny-sd15:failed', Date.now(), id)
      .hset(`r:bull:generate.tiny-sd15:${id}`, 'failedReason', 'job stalled more than allowable limit', 'finishedOn', String(Date.now())).exec();
    assert.ok(job);
  }
  await store.requestCancel('lost-3');
  const report = await reconcileOnce(deps);
  assert.equal(report.failed, 1);
  assert.equal(report.canceled, 1);
  const failed = await store.get('lost-2');
  assert.equal(failed?.status, 'failed');
  assert.equal(failed?.error?.code, 'worker_lost');
  assert.match(failed?.error?.message ?? '', /stalled more than allowable limit/);
  assert.equal((await store.get('lost-3'))?.status, 'canceled');
  const outboxTypes = (await redis.lrange('r:outbox', 0, -1)).map((e) => (JSON.parse(e) as { type: string }).type);
  assert.deepEqual(outboxTypes, [], 'no webhooks subscribed: nothing in the outbox');
});

test('a job lost more often than JOB_ATTEMPTS ends failed with worker_lost instead of looping', async () => {
  await store.create(newRecord('lost-4'));
  for (let i = 1; i <= 2; i++) {
    assert.equal((await reconcileOnce(deps)).requeued >= 1, true);
    await queue.remove('lost-4', 'tiny-sd15'); // lost again
  }
  await reconcileOnce(deps);
  const rec = await store.get('lost-4');
  assert.equal(rec?.status, 'failed');
  assert.equal(rec?.error?.code, 'worker_lost');
});

test('RESULT_TTL: a job past it is deleted with every object under its folder; a younger one stays', async () => {
  const short = new JobStore(redis, { prefix: 'r', ttlSeconds: 1 });
  await short.create(newRecord('old-1', { params: { ...newRecord('x').params, inputs: { init_image: { key: 'old-1/inputs/init_image.png', width: 8, height: 8 } } } as never }));
  await short.markRunning('old-1', { total: 4, attempt: 1, attemptId: 'A' });
  await short.markSucceeded('old-1', { images: [{ key: 'old-1/0.png', width: 8, height: 8, seed: 1, content_type: 'image/png', bytes: 3 }] }, 'A');
  await store.create(newRecord('young-1'));
  for (const key of ['old-1/0.png', 'old-1/inputs/init_image.png', 'young-1/inputs/init_image.png']) await objects.put(key, Buffer.from('png'), 'image/png');
  assert.deepEqual(await objects.list('old-1'), ['old-1/0.png', 'old-1/inputs/init_image.png']);
  await new Promise((r) => setTimeout(r, 1100)); // RESULT_TTL of 1 s runs out (a real deadline, not an event)
  const report = await reconcileOnce({ ...deps, minAgeMs: 60_000 });
  assert.equal(report.deleted, 1);
  assert.deepEqual(await objects.list('old-1'), []);
  assert.equal(await store.get('old-1'), null);
  assert.deepEqual(await objects.list('young-1'), ['young-1/inputs/init_image.png']);
  assert.ok(await store.get('young-1'));
});
