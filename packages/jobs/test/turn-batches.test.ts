// The submissions of one event-loop turn: one CREATE_MANY call for their records, their queue
// entries right after it, everything in one socket write; each job keeps its own outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerateQueue, JobStore, modelQueuedJobsKey } from '../src/index.ts';
import { newRecord, privateRedis } from './helpers.ts';

const db = privateRedis();

/** Calls of each command Redis ran since `reset()` (INFO commandstats). */
async function commandCalls(): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  for (const line of (await db.redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) calls[m[1]!] = Number(m[2]);
  }
  return calls;
}

test('the creates of one turn are one script call, queued in their order, sent in one socket write', async () => {
  const store = new JobStore(db.redis, { prefix: 'wt1' });
  const queue = new GenerateQueue(db.redis, { prefix: 'wt1' });
  // The first create on a connection waits for its reply (scripts may be unknown to this Redis).
  await store.createAndEnqueue(newRecord('warm'), () => queue.add('warm', { jobId: 'warm', model: 'tiny-sd15' }));

  const socket = (db.redis as unknown as { stream: { _write: (...a: unknown[]) => void; _writev?: (...a: unknown[]) => void } }).stream;
  let writes = 0;
  const write = socket._write.bind(socket);
  const writev = socket._writev?.bind(socket);
  socket._write = (...a) => { writes++; write(...a); };
  if (writev) socket._writev = (...a) => { writes++; writev(...a); };
  await db.redis.config('RESETSTAT');
  const before = await commandCalls();
  writes = 0;
  const ids = Array.from({ length: 12 }, (_, i) => `j${i}`);
  const results = await Promise.all(ids.map((id) => store.createAndEnqueue(newRecord(id), () => queue.add(id, { jobId: id, model: 'tiny-sd15' }))));
  const writesForBatch = writes;
  socket._write = write;
  if (writev) socket._writev = writev;
  const after = await commandCalls();

  assert.equal(writesForBatch, 1, 'the create and the 12 queue entries leave in one write');
  // `warm` is still queued ahead of them.
  assert.deepEqual(results.map((r) => r.record.queue_position), ids.map((_, i) => i + 1));
  assert.ok(results.every((r) => r.enqueueError === undefined && r.record.status === 'queued' && r.record.seq === 1));
  assert.equal((after.evalsha ?? 0) - (before.evalsha ?? 0), 1 + ids.length, 'one CREATE_MANY and one BullMQ add per job');
  assert.equal((after.hset ?? 0) - (before.hset ?? 0), ids.length);
  // Workers take them in the order of their positions.
  const waiting = await queue.queueFor('tiny-sd15').getWaiting(0, -1);
  assert.deepEqual(waiting.map((j) => j.id), ['warm', ...ids]); // oldest first: the order workers take them
  for (const [i, id] of ids.entries()) assert.equal((await store.get(id))?.queue_position, i + 1);
  await queue.close();
  await store.close();
});

test('in one batch, a job whose id exists fails alone, and so does a failed enqueue', async () => {
  const store = new JobStore(db.redis, { prefix: 'wt2' });
  const queue = new GenerateQueue(db.redis, { prefix: 'wt2' });
  await store.create(newRecord('dup'));
  const add = (id: string) => () => queue.add(id, { jobId: id, model: 'tiny-sd15' });
  const [ok, dup, down] = await Promise.allSettled([
    store.createAndEnqueue(newRecord('ok'), add('ok')),
    store.createAndEnqueue(newRecord('dup', { model: 'other' }), add('dup')),
    store.createAndEnqueue(newRecord('down'), () => Promise.reject(new Error('queue down'))),
  ]);
  assert.equal(ok.status, 'fulfilled');
  assert.equal(dup.status === 'rejected' && (dup.reason as Error).message, 'job dup already exists');
  assert.equal((await store.get('dup'))?.model, 'tiny-sd15', 'the existing record is untouched');
  assert.equal(down.status === 'fulfilled' && (down.value.enqueueError as Error).message, 'queue down');
  assert.equal((await store.get('down'))?.status, 'queued', 'the record stays for the caller to discard');
  assert.equal((await queue.inspect('ok', 'tiny-sd15')).state, 'waiting');
  await queue.close();
  await store.close();
});

test('with Redis unreachable every create of the batch fails, and nothing is left half-written', async () => {
  const store = new JobStore(db.redis, { prefix: 'wt3' });
  const client = db.redis.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
  client.on('error', () => {});
  const offline = new JobStore(client, { prefix: 'wt3' });
  const results = await Promise.allSettled(['a', 'b'].map((id) => offline.createAndEnqueue(newRecord(id), async () => {})));
  assert.ok(results.every((r) => r.status === 'rejected'));
  assert.equal(await db.redis.exists('wt3:job:a', 'wt3:job:b'), 0);
  client.disconnect();
  await store.close();
});

test('positions stay right when other queued jobs fall among a batch\'s queue scores', async () => {
  const store = new JobStore(db.redis, { prefix: 'wt4' });
  await store.create(newRecord('first')); // the connection knows the script: the batch below is one call
  // Jobs whose turn comes (delayed jobs) every 50 µs from now on: a batch of 60 new jobs spans 60 µs
  // of scores from the moment it runs, so some of these fall among them and its ranks are not one run.
  const set = modelQueuedJobsKey('wt4', 'tiny-sd15');
  const [s, us] = (await db.redis.time()).map(Number) as [number, number];
  const start = s * 1_000_000 + us;
  const pairs: Array<string | number> = [];
  for (let i = 0; i < 8000; i++) pairs.push(start + 1000 + i * 50, `delayed-${String(i).padStart(5, '0')}`);
  await db.redis.zadd(set, ...pairs);
  const ids = Array.from({ length: 60 }, (_, i) => `b${i}`);
  const created = await Promise.all(ids.map((id) => store.create(newRecord(id))));
  const ranks = await Promise.all(ids.map((id) => db.redis.zrank(set, id)));
  assert.deepEqual(created.map((r) => r.queue_position), ranks);
  assert.ok(ranks.at(-1)! - ranks[0]! > ids.length - 1, 'other jobs lie among the batch (the case under test)');
  await store.close();
});

test('a turn with a full batch (16 new jobs) sends it before the turn ends, still in one write', async () => {
  const store = new JobStore(db.redis, { prefix: 'wt5' });
  const queue = new GenerateQueue(db.redis, { prefix: 'wt5' });
  await store.createAndEnqueue(newRecord('warm'), () => queue.add('warm', { jobId: 'warm', model: 'tiny-sd15' }));
  const socket = (db.redis as unknown as { stream: { _write: (...a: unknown[]) => void; _writev?: (...a: unknown[]) => void } }).stream;
  const write = socket._write.bind(socket);
  const writev = socket._writev?.bind(socket);
  /** Writes per batch size, and how many left before the turn's check phase. */
  async function turnOf(n: number, tag: string): Promise<{ writes: number; early: number }> {
    let checkPhase = false;
    let writes = 0;
    let early = 0;
    const count = () => { writes++; if (!checkPhase) early++; };
    socket._write = (...a) => { count(); write(...a); };
    if (writev) socket._writev = (...a) => { count(); writev(...a); };
    setImmediate(() => { checkPhase = true; }); // queued before the turn's own immediates: runs first
    const ids = Array.from({ length: n }, (_, i) => `${tag}${i}`);
    const results = await Promise.all(ids.map((id) => store.createAndEnqueue(newRecord(id), () => queue.add(id, { jobId: id, model: 'tiny-sd15' }))));
    socket._write = write;
    if (writev) socket._writev = writev;
    assert.ok(results.every((r) => r.enqueueError === undefined));
    return { writes, early };
  }
  assert.deepEqual(await turnOf(15, 'a'), { writes: 1, early: 0 }, 'below a full batch: sent at the end of the turn');
  assert.deepEqual(await turnOf(16, 'b'), { writes: 1, early: 1 }, 'a full batch: sent at once, records and queue entries in one write');
  // Both turns' jobs are queued in the order they were created, their positions right.
  const ids = ['warm', ...Array.from({ length: 15 }, (_, i) => `a${i}`), ...Array.from({ length: 16 }, (_, i) => `b${i}`)];
  assert.deepEqual((await queue.queueFor('tiny-sd15').getWaiting(0, -1)).map((j) => j.id), ids);
  for (const [i, id] of ids.entries()) assert.equal((await store.get(id))?.queue_position, i);
  await queue.close();
  await store.close();
});
