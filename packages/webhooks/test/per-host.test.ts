// One slow receiver does not delay the others: a real receiver that holds every request open and a
// fast one, one delivery worker (4 slots, at most 2 per destination), real BullMQ on a private Redis.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { destinationOf, generateWebhookSecret, HostSlots, startWebhookWorker, WebhookDispatcher, type WebhookAttempt } from '../src/index.ts';

const secret = generateWebhookSecret();
let redis: TestRedis;

interface Receiver { server: Server; url: string; received: string[]; held: ServerResponse[]; maxInFlight: number }

/** A receiver; `hold` keeps every request open until released (a slow or dead endpoint). */
async function receiver(hold: boolean): Promise<Receiver> {
  const r: Receiver = { server: createServer(), url: '', received: [], held: [], maxInFlight: 0 };
  let inFlight = 0;
  r.server.on('request', (req, res) => {
    inFlight++;
    r.maxInFlight = Math.max(r.maxInFlight, inFlight);
    res.on('close', () => { inFlight--; });
    req.resume();
    req.on('end', () => {
      r.received.push(String(req.headers['webhook-id']));
      if (hold) r.held.push(res);
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/hook`;
  return r;
}

let slow: Receiver;
let fast: Receiver;
before(async () => {
  redis = await startTestRedis();
  [slow, fast] = await Promise.all([receiver(true), receiver(false)]);
});
after(async () => {
  for (const r of [slow, fast]) {
    r.server.closeAllConnections();
    await new Promise((resolve) => r.server.close(resolve));
  }
  await redis?.stop();
});

test('HostSlots: at most `limit` per destination, released slots are reused, destinations are scheme + host + port', () => {
  const slots = new HostSlots(2);
  const a1 = slots.tryAcquire('a');
  const a2 = slots.tryAcquire('a');
  assert.ok(a1 && a2);
  assert.equal(slots.tryAcquire('a'), null);
  assert.ok(slots.tryAcquire('b'), 'another destination is not affected');
  a1!();
  a1!(); // twice is once
  assert.equal(slots.inFlight('a'), 1);
  assert.ok(slots.tryAcquire('a'));
  assert.equal(destinationOf('https://hooks.example.com/a?x=1'), 'https://hooks.example.com');
  assert.notEqual(destinationOf('http://127.0.0.1:1000/h'), destinationOf('http://127.0.0.1:2000/h'));
  assert.throws(() => new HostSlots(0), RangeError);
});

test('a receiver that never answers holds at most 2 of 4 slots; the fast receiver gets every message meanwhile', async () => {
  const connection = { host: redis.host, port: redis.port };
  const schedule = [0, 60_000];
  const dispatcher = new WebhookDispatcher({ connection, prefix: 'perhost', schedule });
  const attempts: Array<WebhookAttempt & { jobId: string }> = [];
  const worker = startWebhookWorker({
    connection, prefix: 'perhost', secret, schedule, timeoutMs: 30_000, allowPrivate: true,
    concurrency: 4, perHostConcurrency: 2, busyDelayMs: 100,
    onAttempt: (jobId, a) => { attempts.push({ jobId, ...a }); },
  });
  try {
    // The slow receiver's messages go first, more of them than the worker has slots.
    for (let i = 0; i < 6; i++) await dispatcher.notify({ id: `slow-${i}`, webhook: { url: slow.url } }, 'job.succeeded', { id: `slow-${i}` });
    await waitFor(() => slow.held.length === 2, { what: 'two requests held by the slow receiver', timeoutMs: 10_000 });
    for (let i = 0; i < 5; i++) await dispatcher.notify({ id: `fast-${i}`, webhook: { url: fast.url } }, 'job.succeeded', { id: `fast-${i}` });

    // Every fast message is delivered while the slow receiver still holds its requests.
    await waitFor(() => fast.received.length === 5, { what: 'the fast receiver to get all 5 messages', timeoutMs: 10_000 });
    assert.equal(slow.maxInFlight, 2, 'never more than 2 requests in flight to one destination');
    assert.equal(slow.held.length, 2);

    // The slow receiver recovers: its queued messages follow, each delivered once, as attempt 1
    // (being put back while the destination was saturated is not an attempt).
    for (const res of slow.held.splice(0)) res.writeHead(204).end();
    const release = setInterval(() => { for (const res of slow.held.splice(0)) res.writeHead(204).end(); }, 20);
    try {
      await waitFor(() => attempts.filter((a) => a.jobId.startsWith('slow-')).length === 6, { what: 'all 6 slow messages delivered', timeoutMs: 20_000 });
    } finally {
      clearInterval(release);
    }
    assert.equal(new Set(slow.received).size, 6);
    assert.equal(slow.received.length, 6, 'no message was sent twice');
    assert.ok(slow.maxInFlight <= 2);
    assert.ok(attempts.every((a) => a.attempt === 1 && a.status === 204), JSON.stringify(attempts.map((a) => [a.jobId, a.attempt, a.status])));
  } finally {
    await worker.close();
    await dispatcher.close();
  }
});

test('close({ graceMs }) does not wait for a receiver that never answers', async () => {
  const connection = { host: redis.host, port: redis.port };
  const dispatcher = new WebhookDispatcher({ connection, prefix: 'perhost-close', schedule: [0] });
  const worker = startWebhookWorker({ connection, prefix: 'perhost-close', secret, schedule: [0], timeoutMs: 5000, allowPrivate: true });
  try {
    const before = slow.held.length;
    await dispatcher.notify({ id: 'held', webhook: { url: slow.url } }, 'job.started', { id: 'held' });
    await waitFor(() => slow.held.length === before + 1, { what: 'the request to be held', timeoutMs: 10_000 });
    let closed = false;
    const closing = worker.close({ graceMs: 200 }).then(() => { closed = true; });
    await waitFor(() => closed, { what: 'close to return while the request is still held', timeoutMs: 10_000 });
    await closing;
    assert.equal(slow.held.length, before + 1, 'the receiver still holds the request');
    // Let the abandoned delivery end (its lock lapses; a later worker would deliver it again).
    for (const res of slow.held.splice(0)) res.writeHead(204).end();
  } finally {
    await dispatcher.close();
  }
});
