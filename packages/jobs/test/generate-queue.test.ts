import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { Queue } from 'bullmq';
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
  const job = await queue.queueFor('tiny-sd15').getJob('a2');
  assert.deepEqual(job?.data, { jobId: 'a2', model: 'tiny-sd15' });
  assert.equal(job?.opts.attempts, 5);
  assert.equal(job?.opts.backoff && typeof job.opts.backoff === 'object' ? job.opts.backoff.type : null, 'exponential');
  assert.deepEqual([await queue.position('a1', 'tiny-sd15'), await queue.position('a2', 'tiny-sd15'), await queue.position('a3', 'tiny-sd15')], [0, 1, 2]);
  assert.equal(await queue.remove('a1', 'tiny-sd15'), true);
  assert.deepEqual([await queue.position('a2', 'tiny-sd15'), await queue.position('a1', 'tiny-sd15')], [0, null]);
});

test('a failed attempt is retried after the exponential backoff: 2 s, then 4 s (read from BullMQ, not the clock)', async () => {
  const { Worker } = await import('bullmq');
  const q = new GenerateQueue({ url: server.url }, { prefix: 'backoff', attempts: 3 });
  const seen: number[] = [];
  let failedOnce!: () => void;
  let failed = new Promise<void>((r) => { failedOnce = r; });
  const worker = new Worker(q.queueFor('tiny-sd15').name, async (job) => { seen.push(job.attemptsMade); throw new Error('storage down'); }, {
    connection: { url: server.url }, prefix: 'backoff:bull', autorun: true,
  });
  worker.on('failed', () => failedOnce());
  try {
    await q.add('b1', { jobId: 'b1', model: 'tiny-sd15' });
    for (const expected of [2000, 4000]) {
      await failed;
      failed = new Promise<void>((r) => { failedOnce = r; });
      const job = (await q.queueFor('tiny-sd15').getJob('b1'))!;
      assert.equal(await job.getState(), 'delayed', 'waiting for its retry');
      assert.equal(job.delay, expected, `backoff before attempt ${job.attemptsMade + 1}`);
      await job.promote(); // run the retry now instead of waiting for it
    }
    await failed;
    const job = (await q.queueFor('tiny-sd15').getJob('b1'))!;
    assert.equal(await job.getState(), 'failed', 'no attempt after the last');
    assert.deepEqual(seen, [0, 1, 2]);
  } finally {
    await worker.close();
    await q.close();
  }
});

test('one BullMQ queue per model: an entry lands in its model\'s queue only, positions count per model', async () => {
  const q = new GenerateQueue({ url: server.url }, { prefix: 'permodel' });
  try {
    await q.add('m1', { jobId: 'm1', model: 'model-a' });
    await q.add('m2', { jobId: 'm2', model: 'model-b' });
    await q.add('m3', { jobId: 'm3', model: 'model-a' });
    assert.equal(q.queueFor('model-a').name, 'generate.model-a');
    assert.deepEqual(await q.queueFor('model-a').getJobCounts('wait'), { wait: 2 });
    assert.deepEqual(await q.queueFor('model-b').getJobCounts('wait'), { wait: 1 });
    assert.deepEqual([await q.position('m1', 'model-a'), await q.position('m3', 'model-a'), await q.position('m2', 'model-b')], [0, 1, 0]);
    assert.equal((await q.inspect('m2', 'model-a')).state, 'gone', 'not in the other model\'s queue');
    assert.equal((await q.inspect('m2', 'model-b')).state, 'waiting');
    assert.deepEqual(q.models.sort(), ['model-a', 'model-b']);
  } finally {
    await q.close();
  }
});

test('jobs waiting in the single generate queue of earlier versions move to their model queues (priority kept)', async () => {
  const legacy = new Queue('generate', { connection: { url: server.url }, prefix: 'legacy:bull' });
  const q = new GenerateQueue({ url: server.url }, { prefix: 'legacy' });
  try {
    await legacy.add('generate', { jobId: 'l1', model: 'model-a' }, { jobId: 'l1' });
    await legacy.add('generate', { jobId: 'l2', model: 'model-b' }, { jobId: 'l2', priority: 3 });
    assert.equal(await q.migrateLegacy(), 2);
    assert.equal(await legacy.count(), 0, 'the old entries are gone');
    assert.equal((await q.inspect('l1', 'model-a')).state, 'waiting');
    const l2 = await q.queueFor('model-b').getJob('l2');
    assert.equal(await l2?.getState(), 'prioritized');
    assert.equal(l2?.opts.priority, 3);
    assert.equal(await q.migrateLegacy(), 0, 'nothing left to move');
  } finally {
    await legacy.close();
    await q.close();
  }
});
