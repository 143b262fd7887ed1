// The store's guarantees for issue #7, on a real Redis: attempt fencing, cancel wins, the outbox
// written with the transition, the unfinished-jobs index and the deletion schedule.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { JobStore } from '../src/index.ts';
import { newRecord } from './helpers.ts';

let server: TestRedis;
let redis: Redis;
let store: JobStore;
const hook = { url: 'https://x.test/h', events: ['job.started', 'job.succeeded', 'job.failed', 'job.canceled'] as const };

before(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url);
  store = new JobStore(redis, { prefix: 'g', ttlSeconds: 100 });
});
after(async () => {
  await store.close();
  await redis.quit();
  await server.stop();
});

const outbox = async () => (await redis.lrange('g:outbox', 0, -1)).map((raw) => JSON.parse(raw) as { id: string; type: string; record: { status: string } });

test('fencing: once a second attempt starts, the first one can write neither progress nor result', async () => {
  await store.create(newRecord('f1', { webhook: { ...hook, events: [...hook.events] } }));
  assert.equal(await store.markRunning('f1', { total: 4, attempt: 1, attemptId: 'A' }), true);
  assert.deepEqual(await store.setProgress('f1', 1, 4, 'A'), { current: true, cancelRequested: false });
  // A lost lock: the stalled job is started again by another worker.
  assert.equal(await store.markRunning('f1', { total: 4, attempt: 2, attemptId: 'B' }), true);
  assert.deepEqual(await store.setProgress('f1', 2, 4, 'A'), { current: false, cancelRequested: false });
  assert.equal(await store.markSucceeded('f1', { images: [] }, 'A'), false);
  assert.equal(await store.markFailed('f1', { code: 'x', message: 'y' }, 'A'), false);
  assert.equal(await store.requeue('f1', 'A'), 'superseded');
  assert.equal((await store.ownsAttempt('f1', 'A')).current, false);
  assert.equal(await store.markSucceeded('f1', { images: [] }, 'B'), true);
  const rec = await store.get('f1');
  assert.equal(rec?.status, 'succeeded');
  assert.equal(rec?.attempts, 2);
  const events = (await outbox()).filter((e) => e.id === 'f1').map((e) => e.type);
  assert.deepEqual(events, ['job.started', 'job.started', 'job.succeeded'], 'one terminal webhook');
});

test('cancel wins: at start, at hand-back, during a retry wait, and progress reports the flag', async () => {
  // running: the flag comes back with the next progress write
  await store.create(newRecord('c1'));
  await store.markRunning('c1', { total: 4, attempt: 1, attemptId: 'A' });
  assert.equal(await store.requestCancel('c1'), 'cancel_requested');
  assert.deepEqual(await store.setProgress('c1', 1, 4, 'A'), { current: true, cancelRequested: true });
  // hand-back on shutdown with the flag set → canceled, not queued
  assert.equal(await store.requeue('c1', 'A'), 'canceled');
  assert.equal((await store.get('c1'))?.status, 'canceled');

  // waiting for a retry (requeued) → cancel is immediate
  await store.create(newRecord('c2'));
  await store.markRunning('c2', { total: 4, attempt: 1, attemptId: 'A' });
  assert.equal(await store.requeue('c2', 'A'), 'queued');
  assert.equal(await store.requestCancel('c2'), 'canceled');

  // stalled and recovered: the record says running (old attempt), the new attempt must not start
  await store.create(newRecord('c3'));
  await store.markRunning('c3', { total: 4, attempt: 1, attemptId: 'A' });
  assert.equal(await store.requestCancel('c3'), 'cancel_requested');
  assert.equal(await store.markRunning('c3', { total: 4, attempt: 2, attemptId: 'B' }), false);
  assert.equal((await store.get('c3'))?.status, 'canceled');

  // lost for good: recovery ends it canceled rather than failed
  await store.create(newRecord('c4'));
  await store.markRunning('c4', { total: 4, attempt: 1, attemptId: 'A' });
  await store.requestCancel('c4');
  assert.equal(await store.finishLost('c4', { code: 'worker_lost', message: 'lost' }), 'canceled');
  assert.equal(await store.finishLost('c4', { code: 'worker_lost', message: 'lost' }), null, 'finished jobs stay as they are');
});

test('outbox entries carry the record as it was at the event; only subscribed events are written', async () => {
  await redis.del('g:outbox');
  await store.create(newRecord('o1', { webhook: { url: 'https://x.test/h', events: ['job.failed'] } }));
  await store.markRunning('o1', { total: 4, attempt: 1, attemptId: 'A' });
  await store.markFailed('o1', { code: 'model_error', message: 'boom' }, 'A');
  await store.create(newRecord('o2')); // no webhook
  await store.markRunning('o2', { total: 4, attempt: 1, attemptId: 'A' });
  await store.markCanceled('o2', 'A');
  const entries = await outbox();
  assert.deepEqual(entries.map((e) => [e.id, e.type, e.record.status]), [['o1', 'job.failed', 'failed']]);
});

test('the unfinished index and the deletion schedule follow every transition', async () => {
  await store.create(newRecord('i1'));
  const active = async () => await redis.zrange('g:jobs:active', 0, -1);
  assert.ok((await active()).includes('i1'));
  assert.ok((await store.staleActiveIds(0)).includes('i1'));
  assert.deepEqual(await store.staleActiveIds(60_000), [], 'a fresh record is not stale yet');
  await store.markRunning('i1', { total: 4, attempt: 1, attemptId: 'A' });
  await store.markSucceeded('i1', { images: [] }, 'A');
  assert.ok(!(await active()).includes('i1'), 'finished jobs leave the index');
  const due = Number(await redis.zscore('g:jobs:expiry', 'i1'));
  assert.ok(due > Date.now() + 90_000 && due <= Date.now() + 100_000, `deletion due RESULT_TTL after the last change (${due - Date.now()} ms)`);
  await store.deleteJob('i1');
  assert.equal(await store.get('i1'), null);
  assert.equal(await redis.zscore('g:jobs:expiry', 'i1'), null);
});

test('the scripts run by EVALSHA (registered once, reloaded after SCRIPT FLUSH)', async () => {
  await redis.script('FLUSH');
  await store.create(newRecord('s1'));
  assert.equal((await store.get('s1'))?.status, 'queued');
  const info = await redis.info('commandstats');
  assert.match(info, /cmdstat_evalsha:calls=\d+/);
});
