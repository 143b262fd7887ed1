// Queue position from the queued set (ZRANK) kept by the status scripts, and the one-round-trip
// create + enqueue of the submission path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerateQueue, JobStore } from '../src/index.ts';
import { newRecord, privateRedis } from './helpers.ts';

const db = privateRedis();

const positions = async (store: JobStore, ids: string[]) => Promise.all(ids.map(async (id) => (await store.get(id))?.queue_position ?? null));

test('position follows the order workers take jobs, through start, hand-back with a delay, cancel and delete', async () => {
  const store = new JobStore(db.redis, { prefix: 'qp1' });
  const created = [];
  for (const id of ['a', 'b', 'c', 'd']) created.push((await store.create(newRecord(id))).queue_position);
  assert.deepEqual(created, [0, 1, 2, 3]); // create answers with the position: no read-back needed
  assert.deepEqual(await positions(store, ['a', 'b', 'c', 'd']), [0, 1, 2, 3]);

  assert.equal(await store.markRunning('a', { total: 4, attempt: 1, attemptId: 't1' }), true);
  assert.deepEqual(await positions(store, ['a', 'b', 'c', 'd']), [null, 0, 1, 2]);

  // A retry whose backoff ends in a minute queues behind every job that is ready before then.
  assert.equal(await store.requeue('a', 't1', { readyAtMs: Date.now() + 60_000 }), 'queued');
  await store.create(newRecord('e'));
  assert.deepEqual(await positions(store, ['b', 'c', 'd', 'e', 'a']), [0, 1, 2, 3, 4]);

  assert.equal(await store.requestCancel('c'), 'canceled');
  await store.deleteJob('d');
  assert.deepEqual(await positions(store, ['b', 'c', 'd', 'e', 'a']), [0, null, null, 1, 2]);
  assert.equal(await store.queuePosition('b'), 0);
  assert.equal(await store.queuePosition('c'), null);
  await store.close();
});

test('positions count per model: jobs of another model (another queue) are never ahead', async () => {
  const store = new JobStore(db.redis, { prefix: 'qp4' });
  await store.create({ ...newRecord('a1'), model: 'model-a' });
  await store.create({ ...newRecord('b1'), model: 'model-b' });
  await store.create({ ...newRecord('a2'), model: 'model-a' });
  assert.deepEqual(await positions(store, ['a1', 'b1', 'a2']), [0, 0, 1]);
  assert.equal(await store.markRunning('a1', { total: 4, attempt: 1 }), true);
  assert.deepEqual(await positions(store, ['a1', 'b1', 'a2']), [null, 0, 0]);
  assert.equal(await store.queuePosition('a2'), 0);
  await store.deleteJob('b1');
  assert.equal(await db.redis.exists('qp4:jobs:queued:model-b'), 0, 'delete leaves no entry in its model\'s set');
  assert.equal(await db.redis.zcard('qp4:jobs:queued:model-a'), 1);
  await store.close();
});

test('prioritised jobs count after the wait list, lower priority first', async () => {
  const store = new JobStore(db.redis, { prefix: 'qp2' });
  await store.create(newRecord('p1'));
  // BullMQ takes the wait list (no priority) before prioritised jobs; the score bands follow it.
  await db.redis.hset('qp2:job:p1', 'queue_priority', '2');
  await store.markRunning('p1', { total: 4, attempt: 1 });
  assert.equal(await store.requeue('p1'), 'queued'); // re-scored in band 2
  await store.create(newRecord('w1'));
  await store.create({ ...newRecord('p0') });
  await db.redis.hset('qp2:job:p0', 'queue_priority', '1');
  await store.markRunning('p0', { total: 4, attempt: 1 });
  assert.equal(await store.requeue('p0'), 'queued');
  assert.deepEqual(await positions(store, ['w1', 'p0', 'p1']), [0, 1, 2]);
  await store.close();
});

test('createAndEnqueue writes the record and the queue entry on one connection, in that order', async () => {
  const store = new JobStore(db.redis, { prefix: 'qp3' });
  const queue = new GenerateQueue(db.redis, { prefix: 'qp3' });
  assert.equal(queue.sharesConnection(store.connection), true);
  const other = new GenerateQueue({ url: db.server.url });
  assert.equal(other.sharesConnection(store.connection), false);
  await other.close();
  // The first call waits for the create (scripts may be unknown); later ones are pipelined.
  for (const id of ['x1', 'x2']) {
    const { record, enqueueError } = await store.createAndEnqueue(newRecord(id), () => queue.add(id, { jobId: id, model: 'tiny-sd15' }));
    assert.equal(enqueueError, undefined);
    assert.equal(record.status, 'queued');
    assert.equal(record.seq, 1);
    assert.deepEqual((await store.get(id))?.params, record.params);
    assert.equal((await queue.inspect(id, 'tiny-sd15')).state, 'waiting');
  }
  // A failed enqueue leaves the record for the caller to discard.
  const failed = await store.createAndEnqueue(newRecord('x3'), () => Promise.reject(new Error('queue down')));
  assert.equal((failed.enqueueError as Error).message, 'queue down');
  assert.equal((await store.get('x3'))?.status, 'queued');
  await assert.rejects(store.createAndEnqueue(newRecord('x1'), async () => {}), /already exists/);
  await queue.close();
  await store.close();
});
