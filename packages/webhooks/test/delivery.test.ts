// Real Redis (private redis-server), real BullMQ queue, real loopback receiver checking signatures.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import {
  generateWebhookSecret, startWebhookWorker, WebhookDispatcher, type WebhookAttempt, type WebhookWorker,
} from '../src/index.ts';

const secret = generateWebhookSecret();
let redis: TestRedis;
let server: Server;
let base: string;

interface Received { path: string; headers: IncomingMessage['headers']; body: string; verified: unknown }
const received: Received[] = [];
/** Per path: answers to give in order (the last one repeats); 'hang' never answers. */
const scripts = new Map<string, Array<number | 'hang' | [number, Record<string, string>]>>();

before(async () => {
  redis = await startTestRedis();
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      let verified: unknown = null;
      try { verified = new Webhook(secret).verify(body, req.headers as Record<string, string>); } catch { verified = null; }
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body, verified });
      const script = scripts.get(path) ?? [200];
      const answer = script.length > 1 ? script.shift()! : script[0];
      if (answer === 'hang') return;
      const [status, headers] = Array.isArray(answer) ? answer : [answer, {}];
      res.writeHead(status, headers);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await redis?.stop();
});

/** Closers of every harness: a test that fails before its close() must not leave a worker polling. */
const open: Array<() => Promise<void>> = [];
afterEach(async () => { await Promise.all(open.splice(0).map((close) => close())); });

/** A dispatcher and worker on their own queue prefix, collecting attempts. */
async function harness(prefix: string, opts: { schedule?: number[]; timeoutMs?: number; allowPrivate?: boolean } = {}) {
  const connection = { host: redis.host, port: redis.port };
  const schedule = opts.schedule ?? [0, 20, 20, 20];
  const attempts: Array<WebhookAttempt & { jobId: string }> = [];
  const dispatcher = new WebhookDispatcher({ connection, prefix, schedule });
  const worker: WebhookWorker = startWebhookWorker({
    connection, prefix, secret, schedule, timeoutMs: opts.timeoutMs ?? 5000, allowPrivate: opts.allowPrivate ?? true,
    onAttempt: (jobId, a) => { attempts.push({ jobId, ...a }); },
  });
  const until = async (pred: () => boolean, what: string) => {
    await waitFor(pred, { what, timeoutMs: 15_000, intervalMs: 25 });
  };
  /** Waits for the BullMQ job to settle: onAttempt runs just before the processor returns. */
  const settled = async (messageId: string, state: 'completed' | 'failed' | 'delayed') => {
    await waitFor(async () => (await dispatcher.queue.getJobState(messageId)) === state, { what: `${messageId} ${state}`, timeoutMs: 10_000, intervalMs: 25 });
  };
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => { await worker.close(); await dispatcher.close(); })());
  open.push(close);
  return { dispatcher, worker, attempts, until, settled, close };
}

const resource = (id: string) => ({ id, status: 'succeeded', result: { images: [] } });

test('delivered once, signed, with the Standard Webhooks shape', async () => {
  const h = await harness('wh1');
  const job = { id: 'job-ok', webhook: { url: `${base}/ok` } };
  const msgId = await h.dispatcher.notify(job, 'job.succeeded', resource(job.id));
  assert.equal(msgId, 'msg_job-ok_job.succeeded');
  await h.until(() => h.attempts.length === 1, 'one attempt');
  const got = received.filter((r) => r.path === '/ok');
  assert.equal(got.length, 1);
  assert.equal(got[0].headers['webhook-id'], msgId);
  assert.equal(got[0].headers['content-type'], 'application/json');
  const payload = got[0].verified as { type: string; timestamp: string; data: { id: string } };
  assert.ok(payload, 'signature verifies');
  assert.equal(payload.type, 'job.succeeded');
  assert.equal(payload.data.id, 'job-ok');
  assert.ok(!Number.isNaN(Date.parse(payload.timestamp)));
  assert.deepEqual({ ...h.attempts[0], at: 'x' }, { jobId: 'job-ok', event: 'job.succeeded', attempt: 1, status: 200, error: null, at: 'x', next_retry_at: null });
  await h.close();
});

test('events filter and duplicate notifications', async () => {
  const h = await harness('wh2');
  const job = { id: 'job-f', webhook: { url: `${base}/filtered`, events: ['job.succeeded'] } };
  assert.equal(await h.dispatcher.notify(job, 'job.started', resource(job.id)), null);
  assert.equal(await h.dispatcher.notify({ id: 'no-hook' }, 'job.started', {}), null);
  await h.dispatcher.notify(job, 'job.succeeded', resource(job.id));
  await h.dispatcher.notify(job, 'job.succeeded', resource(job.id)); // same message id: not sent twice
  await h.settled('msg_job-f_job.succeeded', 'completed');
  const state = await h.dispatcher.queue.getJobCounts('completed', 'waiting', 'delayed', 'active');
  assert.deepEqual(state, { completed: 1, waiting: 0, delayed: 0, active: 0 });
  assert.equal(received.filter((r) => r.path === '/filtered').length, 1);
  await h.close();
});

test('failures retry on the schedule with the same webhook-id, then succeed', async () => {
  const h = await harness('wh3');
  scripts.set('/flaky', [500, 502, 200]);
  await h.dispatcher.notify({ id: 'job-r', webhook: { url: `${base}/flaky` } }, 'job.failed', resource('job-r'));
  await h.until(() => h.attempts.some((a) => a.status === 200), 'success');
  const got = received.filter((r) => r.path === '/flaky');
  assert.equal(got.length, 3);
  assert.equal(new Set(got.map((g) => g.headers['webhook-id'])).size, 1);
  assert.ok(got.every((g) => g.verified));
  assert.deepEqual(h.attempts.map((a) => [a.attempt, a.status, a.error]), [[1, 500, 'HTTP 500'], [2, 502, 'HTTP 502'], [3, 200, null]]);
  assert.ok(h.attempts[0].next_retry_at && h.attempts[1].next_retry_at);
  assert.equal(h.attempts[2].next_retry_at, null);
  await h.close();
});

test('410 stops for good', async () => {
  const h = await harness('wh4');
  scripts.set('/gone', [410]);
  const id = await h.dispatcher.notify({ id: 'job-g', webhook: { url: `${base}/gone` } }, 'job.canceled', resource('job-g'));
  await h.until(() => h.attempts.length === 1, 'one attempt');
  await h.settled(id!, 'failed');
  assert.equal(h.attempts[0].status, 410);
  assert.equal(h.attempts[0].next_retry_at, null);
  assert.equal(received.filter((r) => r.path === '/gone').length, 1);
  await h.close();
});

test('429 honours Retry-After', async () => {
  const h = await harness('wh5');
  scripts.set('/busy', [[429, { 'retry-after': '1' }], 200]);
  await h.dispatcher.notify({ id: 'job-b', webhook: { url: `${base}/busy` } }, 'job.started', resource('job-b'));
  await h.until(() => h.attempts.length === 2, 'two attempts');
  const first = h.attempts[0];
  assert.equal(first.status, 429);
  // The planned delay is Retry-After's 1 s, not the schedule's 20 ms.
  assert.ok(Date.parse(first.next_retry_at!) - Date.parse(first.at) >= 1000);
  assert.equal(h.attempts[1].status, 200);
  await h.close();
});

test('503 honours Retry-After: the retry is scheduled that far out (BullMQ job data), not on the schedule', async () => {
  const h = await harness('wh503');
  scripts.set('/unavailable', [[503, { 'retry-after': '120' }], 200]);
  const messageId = await h.dispatcher.notify({ id: 'job-503', webhook: { url: `${base}/unavailable` } }, 'job.started', resource('job-503'));
  assert.ok(messageId);
  await h.until(() => h.attempts.length === 1, 'the first attempt');
  assert.equal(h.attempts[0].status, 503);
  assert.ok(h.attempts[0].next_retry_at, 'a retry is planned');
  // The BullMQ job waits for Retry-After's 120 s (the schedule would say 20 ms).
  await h.settled(messageId, 'delayed');
  const delayed = (await h.dispatcher.queue.getJob(messageId))!;
  assert.equal(delayed.delay, 120_000);
  // Run the retry now rather than in two minutes: it is delivered with the same webhook-id.
  await delayed.promote();
  await h.until(() => h.attempts.length === 2, 'the retry');
  assert.equal(h.attempts[1].status, 200);
  const ids = received.filter((r) => r.path === '/unavailable').map((r) => r.headers['webhook-id']);
  assert.deepEqual(ids, [messageId, messageId]);
  await h.close();
});

test('a receiver that does not answer in time counts as a failed attempt', async () => {
  const h = await harness('wh6', { timeoutMs: 300 });
  scripts.set('/hang', ['hang', 204]);
  await h.dispatcher.notify({ id: 'job-t', webhook: { url: `${base}/hang` } }, 'job.succeeded', resource('job-t'));
  await h.until(() => h.attempts.length === 2, 'two attempts');
  assert.equal(h.attempts[0].status, null);
  assert.match(h.attempts[0].error!, /300 ms/);
  assert.equal(h.attempts[1].status, 204);
  await h.close();
});

test('the URL rule applies at delivery: loopback refused without allowPrivate, no retry', async () => {
  const h = await harness('wh7', { allowPrivate: false });
  await h.dispatcher.notify({ id: 'job-p', webhook: { url: `${base}/private` } }, 'job.succeeded', resource('job-p'));
  await h.until(() => h.attempts.length === 1, 'one attempt');
  assert.equal(h.attempts[0].status, null);
  assert.match(h.attempts[0].error!, /not allowed/);
  assert.equal(h.attempts[0].next_retry_at, null);
  assert.equal(received.filter((r) => r.path === '/private').length, 0);
  await h.close();
});

test('attempts run out after the schedule', async () => {
  const h = await harness('wh8', { schedule: [0, 10, 10] });
  scripts.set('/down', [500]);
  await h.dispatcher.notify({ id: 'job-d', webhook: { url: `${base}/down` } }, 'job.failed', resource('job-d'));
  await h.until(() => h.attempts.length === 3, 'three attempts');
  assert.deepEqual(h.attempts.map((a) => a.next_retry_at === null), [false, false, true]);
  await h.settled('msg_job-d_job.failed', 'failed');
  assert.equal(received.filter((r) => r.path === '/down').length, 3);
  await h.close();
});
