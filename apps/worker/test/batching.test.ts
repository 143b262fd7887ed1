// BATCH_MAX_JOBS in a real worker (in process, real engine thread, private Redis): compatible
// jobs are taken together and run as one batch, each with its own record, progress and result; a
// cancel ends only its own job; a shutdown hands every job of a running batch back to the queue.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '@sdsvc/config';
import { EngineHost } from '@sdsvc/engine';
import { GenerateQueue, JobStore } from '@sdsvc/jobs';
import { processRegistry } from '@sdsvc/metrics';
import { createLogger } from '@sdsvc/logging';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { newRecord } from '../../../packages/jobs/test/helpers.ts';
import { startWorker } from '../src/start-worker.ts';

let server: TestRedis;
let redis: Redis;
let store: JobStore;
let queue: GenerateQueue;
let config: Config;

before(async () => {
  server = await startTestRedis();
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-batching-'));
  config = loadConfig({
    REDIS_URL: server.url, STORAGE_URL: `file://${dir}`, FILE_URL_SECRET: 'test-secret-0123456789', MODELS_DIR: './models',
    DEFAULT_MODEL: 'tiny-sd15', LOG_LEVEL: 'silent', RECONCILE_INTERVAL_MS: '60000', SAFETY_MODE: 'off',
    BATCH_MAX_JOBS: '3', BATCH_WAIT_MS: '60000', SHUTDOWN_GRACE_MS: '0',
  });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  store = new JobStore(redis, { prefix: 'sdsvc' });
  queue = new GenerateQueue(redis, { prefix: 'sdsvc', attempts: 3 });
});
after(async () => {
  await queue.close();
  await store.close();
  redis.disconnect();
  await server.stop();
});

async function startBatchingWorker() {
  const engine = await EngineHost.start({
    modelsDir: config.modelsDir, intraOpNumThreads: 1, warmup: false, log: () => {}, batchMaxJobs: config.batchMaxJobs, batchWaitMs: config.batchWaitMs,
  });
  const worker = await startWorker({ config, logger: createLogger({ level: 'silent' }), engine });
  return { engine, worker, async close() { await worker.close(); await engine.close(); } };
}

async function submit(id: string, steps: number, seed: number) {
  await store.create(newRecord(id, { params: { ...newRecord(id).params, steps, seed, scheduler: 'euler_a' } }));
  await queue.add(id, { jobId: id, model: 'tiny-sd15' });
}

test('three compatible jobs run as one batch; cancelling one ends only that one', async () => {
  const w = await startBatchingWorker();
  try {
    // BATCH_WAIT_MS is long: the batch starts because it is full, not because time passed.
    for (const [i, id] of ['b1', 'b2', 'b3'].entries()) await submit(id, 40, 10 + i);
    await waitFor(async () => ((await store.get('b2'))?.progress.step ?? 0) >= 2 || undefined, { timeoutMs: 30_000, what: 'b2 running' });
    assert.equal(await store.requestCancel('b2'), 'cancel_requested');
    const done = await waitFor(async () => {
      const recs = await Promise.all(['b1', 'b2', 'b3'].map((id) => store.get(id)));
      return recs.every((r) => r && ['succeeded', 'failed', 'canceled'].includes(r.status)) ? recs : undefined;
    }, { timeoutMs: 60_000, what: 'all three finished' });
    assert.deepEqual(done.map((r) => r!.status), ['succeeded', 'canceled', 'succeeded']);
    assert.ok(done[1]!.progress.step < 40, 'the canceled job stopped early');
    for (const r of [done[0]!, done[2]!]) {
      assert.equal(r.progress.step, r.progress.total);
      assert.equal(r.result?.images.length, 1);
    }
    assert.deepEqual(w.engine.batches!.sent, [3]);
    const metrics = await processRegistry().metrics(); // the worker's metrics: one engine call of 3 jobs
    assert.match(metrics, /^sdsvc_batch_jobs_count\{model="tiny-sd15"\} 1$/m);
    assert.match(metrics, /^sdsvc_batch_jobs_sum\{model="tiny-sd15"\} 3$/m);
  } finally {
    await w.close();
  }
});

test('a shutdown during a batch hands each of its jobs back to the queue', async () => {
  const w = await startBatchingWorker();
  let closed = false;
  try {
    for (const [i, id] of ['s1', 's2', 's3'].entries()) await submit(id, 400, 20 + i);
    await waitFor(async () => {
      const recs = await Promise.all(['s1', 's2', 's3'].map((id) => store.get(id)));
      return recs.every((r) => (r?.progress.step ?? 0) >= 1) || undefined;
    }, { timeoutMs: 30_000, what: 'the batch running' });
    await w.close();
    closed = true;
    for (const id of ['s1', 's2', 's3']) {
      assert.equal((await store.get(id))?.status, 'queued', id);
      assert.equal((await queue.inspect(id, 'tiny-sd15')).state, 'waiting', id);
    }
  } finally {
    if (!closed) await w.close();
    for (const id of ['s1', 's2', 's3']) await queue.remove(id, 'tiny-sd15');
  }
});
