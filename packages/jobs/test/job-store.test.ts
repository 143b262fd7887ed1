import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { buildJobResource, IdempotencyStore, JobStore, type JobEvent } from '../src/index.ts';
import { newRecord } from './helpers.ts';

let server: TestRedis;
let redis: Redis;
let store: JobStore;

before(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url);
  store = new JobStore(redis, { prefix: 'test' });
});
after(async () => {
  await store.close();
  await redis.quit();
  await server.stop();
});

describe('JobStore', () => {
  test('create then get returns a queued record; a second create with the same id fails', async () => {
    await store.create(newRecord('j1', { metadata: { a: 1 }, webhook: { url: 'https://x.test/h', events: ['job.succeeded'] } }));
    const rec = await store.get('j1');
    assert.equal(rec?.status, 'queued');
    assert.deepEqual(rec?.metadata, { a: 1 });
    assert.equal(rec?.progress.total, 4);
    assert.equal(rec?.seq, 1);
    await assert.rejects(store.create(newRecord('j1')));
    assert.equal(await store.get('nope'), null);
  });

  test('lifecycle publishes started, progress and succeeded with increasing seq', async () => {
    await store.create(newRecord('j2'));
    const events: JobEvent[] = [];
    let succeeded!: () => void;
    const done = new Promise<void>((resolve) => { succeeded = resolve; });
    // subscribe() resolves once Redis confirmed the subscription: nothing published later is lost.
    const unsubscribe = await store.subscribe('j2', (e) => { events.push(e); if (e.type === 'succeeded') succeeded(); });
    assert.equal(await store.markRunning('j2', { total: 4, attempt: 1 }), true);
    for (let s = 1; s <= 4; s++) await store.setProgress('j2', s, 4);
    const image = { key: 'p/j2/0.png', width: 64, height: 64, seed: 42, content_type: 'image/png', bytes: 10 };
    assert.equal(await store.markSucceeded('j2', { images: [image] }), true);
    await done;
    await unsubscribe();
    assert.deepEqual(events.map((e) => e.type), ['started', 'progress', 'progress', 'progress', 'progress', 'succeeded']);
    const seqs = events.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.equal(new Set(seqs).size, seqs.length);
    assert.equal(events.at(-1)?.record.result?.images[0].key, 'p/j2/0.png');
    // terminal is final
    assert.equal(await store.markFailed('j2', { code: 'x', message: 'y' }), false);
    assert.equal(await store.requestCancel('j2'), 'finished');
    const resource = await buildJobResource((await store.get('j2'))!, { urlFor: async (k) => `https://cdn.test/${k}` });
    assert.equal(resource.result?.images[0].url, 'https://cdn.test/p/j2/0.png');
    assert.equal(resource.queue_position, null);
    assert.ok(resource.started_at && resource.finished_at);
  });

  test('cancel: queued → canceled at once; running → flag and cancel channel', async () => {
    await store.create(newRecord('j3'));
    assert.equal(await store.requestCancel('j3'), 'canceled');
    assert.equal((await store.get('j3'))?.status, 'canceled');
    assert.equal(await store.markRunning('j3', { total: 4, attempt: 1 }), false);

    await store.create(newRecord('j4'));
    await store.markRunning('j4', { total: 4, attempt: 1 });
    let heardId!: (id: string) => void;
    const heard = new Promise<string>((resolve) => { heardId = resolve; });
    // Awaiting onCancelRequested means the subscription is live before the cancel is published.
    const stopListening = await store.onCancelRequested((id) => heardId(id));
    assert.equal(await store.requestCancel('j4'), 'cancel_requested');
    assert.equal(await heard, 'j4');
    await stopListening();
    assert.equal(await store.isCancelRequested('j4'), true);
    assert.equal((await store.get('j4'))?.status, 'running');
    // a retry of a cancel-requested job must not start it again: the cancel wins, right there
    assert.equal(await store.markRunning('j4', { total: 4, attempt: 2 }), false);
    assert.equal((await store.get('j4'))?.status, 'canceled');
    assert.equal(await store.markCanceled('j4'), false, 'already canceled');
    assert.equal(await store.requestCancel('missing'), 'not_found');
  });

  test('requeue hands a running job back as queued; failures record the error', async () => {
    await store.create(newRecord('j5'));
    await store.markRunning('j5', { total: 4, attempt: 1 });
    await store.setProgress('j5', 2, 4);
    assert.equal(await store.requeue('j5'), 'queued');
    const rec = await store.get('j5');
    assert.equal(rec?.status, 'queued');
    assert.equal(rec?.progress.step, 0);
    assert.equal(await store.markRunning('j5', { total: 4, attempt: 2 }), true);
    assert.equal(await store.markFailed('j5', { code: 'model_error', message: 'boom' }), true);
    const failed = await store.get('j5');
    assert.deepEqual(failed?.error, { code: 'model_error', message: 'boom' });
    assert.equal(failed?.attempts, 2);
  });

  test('webhook attempts are listed on the record', async () => {
    await store.create(newRecord('j6', { webhook: { url: 'https://x.test/h', events: ['job.succeeded'] } }));
    await store.addWebhookAttempt('j6', { webhook_id: 'msg_1', event: 'job.succeeded', attempt: 1, at: new Date().toISOString(), status: 503, ok: false });
    await store.addWebhookAttempt('j6', { webhook_id: 'msg_1', event: 'job.succeeded', attempt: 2, at: new Date().toISOString(), status: 200, ok: true });
    const res = await buildJobResource((await store.get('j6'))!, { urlFor: async (k) => k, queuePosition: 3 });
    assert.deepEqual(res.webhook?.attempts.map((a) => a.status), [503, 200]);
    assert.equal(res.queue_position, 3);
  });

  test('records expire 7 days (+ 1 h for the sweeper) after their last change (TTL set, and renewed by every change)', async () => {
    const week = 7 * 24 * 3600 + 3600;
    await store.create(newRecord('j7', { webhook: { url: 'https://x.test/h', events: ['job.succeeded'] } }));
    const ttl = () => redis.ttl('test:job:j7');
    assert.ok((await ttl()) > week - 60 && (await ttl()) <= week, `TTL after create: ${await ttl()}`);
    // Shorten it by hand: the next change must set the full week again.
    await redis.expire('test:job:j7', 100);
    await store.markRunning('j7', { total: 4, attempt: 1 });
    assert.ok((await ttl()) > week - 60, `TTL after markRunning: ${await ttl()}`);
    await redis.expire('test:job:j7', 100);
    await store.setProgress('j7', 1, 4);
    assert.ok((await ttl()) > week - 60, `TTL after setProgress: ${await ttl()}`);
    await store.addWebhookAttempt('j7', { webhook_id: 'msg_7', event: 'job.succeeded', attempt: 1, at: new Date().toISOString(), status: 200, ok: true });
    const attemptsTtl = await redis.ttl('test:job:j7:webhook-attempts');
    assert.ok(attemptsTtl > week - 60 && attemptsTtl <= week, `webhook attempts TTL ${attemptsTtl}`);
    await redis.expire('test:job:j7', 100);
    await store.markSucceeded('j7', { images: [] });
    assert.ok((await ttl()) > week - 60, `TTL after markSucceeded: ${await ttl()}`);
    // No key of the store lives forever.
    for (const key of await redis.keys('test:job:*')) assert.notEqual(await redis.ttl(key), -1, `${key} has no TTL`);
  });
});

describe('IdempotencyStore', () => {
  test('claimed before any work: pending twin → in_progress; committed → replay; other body → conflict; released → new', async () => {
    const idem = new IdempotencyStore(redis, { prefix: 'test', waitMs: 100 });
    assert.deepEqual(await idem.check('k', 'h1'), { status: 'new' });
    assert.deepEqual(await idem.claim('k', 'job-a', 'h1'), { status: 'new' });
    assert.ok((await redis.ttl('test:idempotency:k')) <= 60, 'a pending claim is short-lived');
    assert.deepEqual(await idem.claim('k', 'job-b', 'h1'), { status: 'in_progress', jobId: 'job-a' });
    assert.deepEqual(await idem.check('k', 'h2'), { status: 'conflict', jobId: 'job-a' });
    await idem.commit('k', 'job-a', 'h1');
    assert.deepEqual(await idem.claim('k', 'job-b', 'h1'), { status: 'replay', jobId: 'job-a' });
    assert.ok((await redis.ttl('test:idempotency:k')) > 86000);
    await idem.release('k', 'job-b'); // not the claimant: nothing happens
    assert.deepEqual(await idem.check('k', 'h1'), { status: 'replay', jobId: 'job-a' });

    assert.deepEqual(await idem.claim('k2', 'job-c', 'h1'), { status: 'new' });
    await idem.release('k2', 'job-c');
    assert.deepEqual(await idem.claim('k2', 'job-d', 'h1'), { status: 'new' }, 'a released key creates the job on retry');
  });

  test('a twin waiting on a pending claim gets the job once it is committed', async () => {
    const idem = new IdempotencyStore(redis, { prefix: 'test', waitMs: 5000 });
    assert.deepEqual(await idem.claim('k3', 'job-e', 'h1'), { status: 'new' });
    const twin = idem.claim('k3', 'job-f', 'h1');
    await idem.commit('k3', 'job-e', 'h1');
    assert.deepEqual(await twin, { status: 'replay', jobId: 'job-e' });
  });
});
