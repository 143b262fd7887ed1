import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { GenerateQueue } from '../src/index.ts';

let server: TestRedis;
let queue: GenerateQueue;

before(async () => {
  server = await startTestRedis();
  queue = new GenerateQueue({ url: server.url }, { prefix: 'test', attempts: 5 });
});
after(async () => {
  await queue.close();
  await server.stop();
});

test('jobs keep our id, small data and bounded retries; position counts from the head', async () => {
  await queue.add('a1', { jobId: 'a1', model: 'tiny-sd15' });
  await queue.add('a2', { jobId: 'a2', model: 'tiny-sd15' });
  await queue.add('a3', { jobId: 'a3', model: 'tiny-sd15' });
  const job = await queue.queue.getJob('a2');
  assert.deepEqual(job?.data, { jobId: 'a2', model: 'tiny-sd15' });
  assert.equal(job?.opts.attempts, 5);
  assert.equal(job?.opts.backoff && typeof job.opts.backoff === 'object' ? job.opts.backoff.type : null, 'exponential');
  assert.deepEqual([await queue.position('a1'), await queue.position('a2'), await queue.position('a3')], [0, 1, 2]);
  assert.equal(await queue.remove('a1'), true);
  assert.deepEqual([await queue.position('a2'), await queue.position('a1')], [0, null]);
});

test('a failed attempt is retried after the exponential backoff: 2 s, then 4 s (read from BullMQ, not the clock)', async () => {
  const { Worker } = await import('bullmq');
  const q = new GenerateQueue({ url: server.url }, { prefix: 'backoff', attempts: 3 });
  const seen: number[] = [];
  let failedOnce!: () => void;
  let failed = new Promise<void>((r) => { failedOnce = r; });
  const worker = new Worker(q.queue.name, async (job) => { seen.push(job.attemptsMade); throw new Error('storage down'); }, {
    connection: { url: server.url }, prefix: 'backoff:bull', autorun: true,
  });
  worker.on('failed', () => failedOnce());
  try {
    await q.add('b1', { jobId: 'b1', model: 'tiny-sd15' });
    for (const expected of [2000, 4000]) {
      await failed;
      failed = new Promise<void>((r) => { failedOnce = r; });
      const job = (await q.queue.getJob('b1'))!;
      assert.equal(await job.getState(), 'delayed', 'waiting for its retry');
      assert.equal(job.delay, expected, `backoff before attempt ${job.attemptsMade + 1}`);
      await job.promote(); // run the retry now instead of waiting for it
    }
    await failed;
    const job = (await q.queue.getJob('b1'))!;
    assert.equal(await job.getState(), 'failed', 'no attempt after the last');
    assert.deepEqual(seen, [0, 1, 2]);
  } finally {
    await worker.close();
    await q.close();
  }
});
