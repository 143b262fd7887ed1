// JobStore.get: the jobs read in one turn of the event loop are read by one READ_MANY call, and
// every read gives the same record and queue position whoever reads, at every step of a job's life.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobStore } from '../src/index.ts';
import { fromHash, RECORD_FIELDS } from '../src/record.ts';
import { newRecord, privateRedis } from './helpers.ts';

const db = privateRedis();

/** Script calls (EVALSHA/EVAL) Redis ran so far. */
async function scriptCalls(): Promise<number> {
  const info = await db.redis.info('commandstats');
  let n = 0;
  for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) n += Number(m[1]);
  return n;
}

test('reads give the same record as a fresh store at every step, and a turn\'s reads are one call', async () => {
  const warm = new JobStore(db.redis, { prefix: 'rp1', shareParams: true });
  const webhook = { url: 'https://hooks.test/x', events: ['job.succeeded' as const] };
  await warm.create(newRecord('a'));
  await warm.create({ ...newRecord('b'), webhook, metadata: { k: 'v' } });
  await warm.create({ ...newRecord('c'), model: 'other-model' });
  const ids = ['a', 'b', 'c', 'gone'];
  const same = async (step: string) => {
    const cold = new JobStore(db.redis, { prefix: 'rp1' });
    const one = [];
    for (const id of ids) one.push(await cold.get(id)); // one turn each
    await cold.close();
    const before = await scriptCalls();
    const batch = await Promise.all([...ids, 'a'].map((id) => warm.get(id))); // one turn, 'a' twice
    assert.equal((await scriptCalls()) - before, 1, `${step}: one script call for the turn`);
    assert.deepEqual(batch.slice(0, ids.length), one, step);
    assert.deepEqual(batch[ids.length], batch[0], `${step}: the same job asked twice`);
  };
  await same('created');
  assert.deepEqual((await warm.get('a'))?.queue_position, 0);
  assert.deepEqual((await warm.get('b'))?.queue_position, 1);
  assert.deepEqual((await warm.get('c'))?.queue_position, 0, 'another model: another queue');
  assert.equal(await warm.markRunning('a', { total: 4, attempt: 1, attemptId: 't1' }), true);
  await same('a running');
  assert.equal((await warm.get('a'))?.queue_position, null);
  assert.equal((await warm.get('b'))?.queue_position, 0);
  await warm.addWebhookAttempt('b', { webhook_id: 'w1', event: 'job.succeeded', attempt: 1, at: new Date().toISOString(), status: 200, ok: true });
  await warm.setProgress('a', 2, 4, 't1');
  await same('progress, a webhook attempt');
  assert.equal((await warm.get('b'))?.webhook_attempts.length, 1);
  assert.equal(await warm.requeue('a', 't1'), 'queued');
  await same('a queued again');
  assert.equal(await warm.requestCancel('b'), 'canceled');
  await warm.markRunning('a', { total: 4, attempt: 2, attemptId: 't2' });
  await warm.markSucceeded('a', { images: [] }, 't2');
  await same('a succeeded, b canceled');
  await warm.deleteJob('c');
  await same('c deleted');
  assert.equal(await warm.get('c'), null);
  await warm.close();
});

test('a queued record without a rank (between a worker\'s start and a re-queue) reads with no position', async () => {
  const store = new JobStore(db.redis, { prefix: 'rp2' });
  await store.create(newRecord('q'));
  assert.equal((await store.get('q'))?.queue_position, 0);
  await db.redis.zrem('rp2:jobs:queued:tiny-sd15', 'q');
  const rec = await store.get('q');
  assert.equal(rec?.status, 'queued');
  assert.equal(rec?.queue_position, null);
  await store.close();
});

test('fromHash reads no field outside RECORD_FIELDS (what a read asks Redis for)', () => {
  const read = new Set<string>();
  const full: Record<string, string> = {
    id: 'x', status: 'succeeded', type: 'animation', model: 'm', params: '{"steps":4}', metadata: '{"a":1}',
    webhook: '{"url":"https://h/x","events":[]}', owner: 'o', created_at: 't', started_at: 't', finished_at: 't',
    progress_step: '4', progress_total: '4', progress_frame: '1', progress_frames: '2', result: '{"images":[]}',
    error: '{"code":"x","message":"y"}', attempts: '1', cancel_requested: '1', recoveries: '1', seq: '9', attempt_id: 'a', queue_ready_ms: '1',
  };
  for (const h of [full, { id: 'x', status: 'queued', type: 'txt2img', model: 'm', params: '{}' }]) {
    fromHash(new Proxy(h, { get: (t, k) => { if (typeof k === 'string') read.add(k); return (t as Record<string | symbol, string>)[k]; } }));
  }
  const fields: readonly string[] = RECORD_FIELDS;
  assert.deepEqual([...read].filter((k) => !fields.includes(k)), []);
  assert.ok(read.size >= 20, 'the proxy saw the reads');
});

test('shareParams: later reads of a job return its params parsed once, deep-frozen; without it each read parses its own', async () => {
  const shared = new JobStore(db.redis, { prefix: 'rp3', shareParams: true });
  const plain = new JobStore(db.redis, { prefix: 'rp3' });
  await shared.create({ ...newRecord('s'), metadata: { k: 'v' } });
  const [a, b, c] = [await shared.get('s'), await shared.get('s'), await shared.get('s')];
  assert.equal(b!.params, a!.params, 'the same object');
  assert.equal(c!.params, a!.params);
  assert.ok(Object.isFrozen(a!.params) && Object.isFrozen(a!.params.weights) && Object.isFrozen(a!.params.weights.prompt[0]), 'deep-frozen');
  assert.throws(() => { (a!.params as { steps: number }).steps = 99; }, TypeError);
  assert.notEqual(b!.metadata, a!.metadata, 'metadata is parsed per read (only params are shared)');
  const [p1, p2] = [await plain.get('s'), await plain.get('s')];
  assert.notEqual(p2!.params, p1!.params);
  assert.ok(!Object.isFrozen(p1!.params));
  assert.deepEqual(c, p2, 'the same record either way');
  await shared.close();
  await plain.close();
});
