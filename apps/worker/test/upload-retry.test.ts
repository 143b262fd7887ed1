// A storage outage after generation retries the upload, not the generation; an upload that keeps
// failing hands the job back for a later attempt, and a cancel while it waits for that retry ends
// it canceled for good. Real worker (in process), real engine thread, private Redis; the object
// store is a real file store behind a switch that makes `put` fail (fault injection).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '@sdsvc/config';
import { GenerateQueue, JobStore } from '@sdsvc/jobs';
import { createLogger } from '@sdsvc/logging';
import { FileObjectStore, StorageError, type ObjectStore } from '@sdsvc/storage';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { newRecord } from '../../../packages/jobs/test/helpers.ts';
import { startWorker, type RunningWorker } from '../src/start-worker.ts';

let server: TestRedis;
let redis: Redis;
let store: JobStore;
let queue: GenerateQueue;
let worker: RunningWorker;
let failPuts = 0;
let puts = 0;

before(async () => {
  server = await startTestRedis();
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-upload-retry-'));
  const config = loadConfig({
    REDIS_URL: server.url, STORAGE_URL: `file://${dir}`, FILE_URL_SECRET: 'test-secret-0123456789', MODELS_DIR: './models',
    DEFAULT_MODEL: 'tiny-sd15', JOB_ATTEMPTS: '3', LOG_LEVEL: 'silent', RECONCILE_INTERVAL_MS: '60000',
  });
  const files = await FileObjectStore.open({ root: dir, publicBaseUrl: 'http://x.test', secret: 'test-secret-0123456789' });
  const objects: ObjectStore = Object.assign(Object.create(files) as ObjectStore, {
    async put(key: string, body: Buffer, type: string) {
      puts++;
      if (failPuts > 0) { failPuts--; throw new StorageError('storage_unavailable', 'injected outage'); }
      return await files.put(key, body, type);
    },
  });
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  store = new JobStore(redis, { prefix: 'sdsvc' });
  queue = new GenerateQueue(redis, { prefix: 'sdsvc', attempts: 3 });
  worker = await startWorker({ config, logger: createLogger({ level: 'silent' }), objects });
});
after(async () => {
  await worker?.close();
  await queue.close();
  await store.close();
  redis.disconnect();
  await server.stop();
});

async function submit(id: string) {
  await store.create(newRecord(id, { params: { ...newRecord(id).params, steps: 1, scheduler: 'euler' } }));
  await queue.add(id, { jobId: id, model: 'tiny-sd15' });
}

test('two failed uploads are retried in place: the job succeeds in its first attempt', async () => {
  failPuts = 2;
  puts = 0;
  await submit('up-1');
  const rec = await waitFor(async () => { const r = await store.get('up-1'); return r?.status === 'succeeded' ? r : undefined; }, { timeoutMs: 30_000, what: 'up-1 succeeded' });
  assert.equal(puts, 3, 'the upload ran three times');
  assert.equal(rec.attempts, 1, 'the generation ran once');
});

test('an upload that keeps failing hands the job back; a cancel while it waits for the retry wins', async () => {
  failPuts = 1000;
  await submit('up-2');
  // 4 upload tries (0.5 + 1 + 2 s of backoff), then the job waits in BullMQ's delayed set.
  await waitFor(async () => ((await store.get('up-2'))?.status === 'queued' && (await queue.inspect('up-2', 'tiny-sd15')).state === 'delayed') || undefined,
    { timeoutMs: 30_000, what: 'up-2 waiting for its retry' });
  assert.equal(await store.requestCancel('up-2'), 'canceled');
  await queue.remove('up-2', 'tiny-sd15');
  failPuts = 0;
  const rec = await store.get('up-2');
  assert.equal(rec?.status, 'canceled');
  assert.equal(rec?.attempts, 1);
  assert.equal((await queue.inspect('up-2', 'tiny-sd15')).state, 'gone', 'it will not run again');
});
