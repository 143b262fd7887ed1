// Queue retention is the Worker's (generateRetention), not each job's: adds carry only attempts and
// backoff, and the Worker that finishes jobs keeps at most keepCompleted / keepFailed entries.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { UnrecoverableError } from 'bullmq';
import { bullmqPrefix, GenerateQueue } from '@sdsvc/jobs';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { createGenerateWorker } from '../src/generate-worker.ts';

let server: TestRedis;
let redis: Redis;

before(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
after(async () => {
  redis.disconnect();
  await server.stop();
});

test('jobs carry attempts and backoff only; the Worker trims finished entries to its retention', async (t) => {
  const queue = new GenerateQueue(redis, { prefix: 'gw', attempts: 2 });
  const connection = redis.duplicate();
  let worker: ReturnType<typeof createGenerateWorker> | undefined;
  t.after(async () => { await worker?.close(); await queue.close(); connection.disconnect(); });
  const ids = ['ok-1', 'ok-2', 'ok-3', 'ok-4', 'bad-1', 'bad-2', 'bad-3'];
  for (const id of ids) await queue.add(id, { jobId: id, model: 'm' });
  const queued = await queue.queueFor('m').getJob('ok-1');
  assert.deepEqual(queued?.opts.attempts, 2);
  assert.equal(queued?.opts.removeOnComplete, undefined, 'no retention on the job itself');
  assert.equal(queued?.opts.removeOnFail, undefined);

  worker = createGenerateWorker({
    model: 'm', connection, prefix: bullmqPrefix('gw'), concurrency: 1,
    retention: { keepCompleted: 2, keepFailed: 1 },
    process: async (job) => { if (job.id!.startsWith('bad')) throw new UnrecoverableError('bad input'); },
  });
  const finished = new Set<string>();
  worker.on('completed', (job) => finished.add(job.id!));
  worker.on('failed', (job) => { if (job) finished.add(job.id!); });
  void worker.run();
  await waitFor(() => finished.size === ids.length, { timeoutMs: 10_000, what: 'every job finished' });
  const q = queue.queueFor('m');
  assert.deepEqual((await q.getCompleted()).map((j) => j.id).sort(), ['ok-3', 'ok-4'], 'the newest 2 completed entries stay');
  assert.deepEqual((await q.getFailed()).map((j) => j.id), ['bad-3'], 'the newest failed entry stays');
});
