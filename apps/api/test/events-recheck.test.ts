// SSE and Prefer: wait do not rely on pub/sub alone: a job that finishes without its message
// reaching the API (lost while the subscriber reconnected) still ends the stream and the wait,
// through the re-read on every heartbeat (200 ms here) and after the subscriber reconnects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { jobKeys } from '@sdsvc/jobs';
import { collectSse, type SseEvent } from '../../../test/support/sse.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { listen, startHarness, type Harness } from './harness.ts';

let h: Harness;
let base: string;
before(async () => {
  h = await startHarness();
  base = await listen(h);
});
after(async () => { await h.close(); });

/** Finishes the job the way a lost message looks from the API: the record changes, nobody is told. */
async function finishSilently(id: string): Promise<void> {
  const key = jobKeys('t', id).record;
  await h.redis.multi()
    .hset(key, 'status', 'succeeded', 'finished_at', new Date().toISOString(), 'result', JSON.stringify({ images: [] }))
    .hincrby(key, 'seq', 1)
    .exec();
}

/** Resolves once the first event arrived; `events` resolves when the stream ends. */
async function openStream(id: string): Promise<{ events: Promise<SseEvent[]> }> {
  let first!: () => void;
  const opened = new Promise<void>((resolve) => { first = resolve; });
  const events = collectSse(`${base}/v1/jobs/${id}/events`, { timeoutMs: 20_000, onEvent: () => first() });
  await opened;
  return { events };
}

test('SSE: a job finished without a message ends the stream at the next heartbeat', async () => {
  const job = (await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'lost message' } })).json();
  await h.store.markRunning(job.id, { total: 2, attempt: 1 });
  const stream = await openStream(job.id);
  await finishSilently(job.id);
  const events = await stream.events;
  assert.deepEqual(events.map((e) => e.event), ['started', 'succeeded']);
  assert.equal((events[1].data as { job: { status: string } }).job.status, 'succeeded');
});

test('SSE: after the subscriber connection is killed, the stream still sees the job finish', async () => {
  const job = (await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'reconnect' } })).json();
  const stream = await openStream(job.id);
  // Drop every pub/sub connection; the message below may go out before ioredis has resubscribed.
  await h.redis.client('KILL', 'TYPE', 'pubsub');
  await h.store.markRunning(job.id, { total: 1, attempt: 1 });
  await h.store.markSucceeded(job.id, { images: [] });
  const events = await stream.events;
  assert.equal(events.at(-1)?.event, 'succeeded', JSON.stringify(events.map((e) => e.event)));
});

test('Prefer: wait: a job finished without a message answers at the next poll, not at the end of the wait', async () => {
  const known = new Set(await h.redis.keys('t:job:*'));
  const answer = fetch(`${base}/v1/jobs`, {
    method: 'POST', headers: { 'content-type': 'application/json', prefer: 'wait=60' },
    body: JSON.stringify({ prompt: 'waiting' }), signal: AbortSignal.timeout(30_000),
  });
  const key = await waitFor(async () => (await h.redis.keys('t:job:*')).find((k) => !known.has(k) && !k.endsWith(':webhook-attempts')),
    { what: 'the waiting job to be recorded' });
  const id = key.slice('t:job:'.length);
  await finishSilently(id);
  const res = await answer;
  assert.equal(res.status, 202);
  assert.equal(res.headers.get('preference-applied'), 'wait=60');
  const body = (await res.json()) as { id: string; status: string };
  assert.equal(body.id, id);
  assert.equal(body.status, 'succeeded');
});
