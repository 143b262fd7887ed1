// The API with its production wiring (startApi: fail-fast Redis connection) against a private
// redis-server that the test stops and restarts on the same port and data folder: requests answer
// 503 + Retry-After at once while Redis is down, SSE streams get a last error event, and the API
// serves again when Redis is back, without a restart. Closing ends open streams and waits.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '@sdsvc/config';
import { freePort, startLocalRedis, type LocalRedis } from '@sdsvc/local-redis';
import { createLogger } from '@sdsvc/logging';
import { startApi, type RunningApi } from '../src/server.ts';
import { collectSse, type SseEvent } from '../../../test/support/sse.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { MODELS_DIR } from './harness.ts';

/** Far above the 2 s the API promises: a hang shows up as an AbortError, not a slow pass. */
const CLIENT_TIMEOUT_MS = 10_000;

let dir: string;
let redisPort: number;
let redis: LocalRedis | null = null;
let api: RunningApi;
let base: string;

const startRedis = async () => { redis = await startLocalRedis({ port: redisPort, dir, appendOnly: true }); };
const stopRedis = async () => { await redis?.stop(); redis = null; };

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; type: string; retryAfter: string | null; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', retryAfter: res.headers.get('retry-after'), json: await res.json() };
}

function assertUnavailable(r: Awaited<ReturnType<typeof call>>, code: string) {
  assert.equal(r.status, 503, JSON.stringify(r.json));
  assert.match(r.type, /^application\/problem\+json/);
  assert.equal(r.json.code, code);
  assert.ok(Number(r.retryAfter) > 0, `Retry-After: ${r.retryAfter}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdsvc-outage-'));
  redisPort = await freePort();
  await startRedis();
  const config = loadConfig({
    REDIS_URL: `redis://127.0.0.1:${redisPort}`, STORAGE_URL: `file://${join(dir, 'storage')}`, MODELS_DIR, DEFAULT_MODEL: 'tiny-sd15',
    FILE_URL_SECRET: 'test-secret-0123456789', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', QUEUE_PREFIX: 'outage',
    QUEUE_WITHOUT_WORKERS: 'true', // no worker runs here
  });
  api = await startApi(config, { logger: createLogger({ level: 'silent' }) });
  base = api.address;
});

after(async () => {
  await api?.close();
  await stopRedis();
  await rm(dir, { recursive: true, force: true });
});

test('Redis down: POST, GET and cancel answer 503 with Retry-After at once; SSE gets an error event; all recover when Redis is back', async (t) => {
  const created = await call('POST', '/v1/jobs', { prompt: 'before the outage' });
  assert.equal(created.status, 202);
  const id = created.json.id as string;

  // An open stream: its first event is the current state; then Redis goes away.
  const seen: SseEvent[] = [];
  let firstEvent!: () => void;
  const gotFirst = new Promise<void>((resolve) => { firstEvent = resolve; });
  const stream = collectSse(`${base}/v1/jobs/${id}/events`, { timeoutMs: 30_000, onEvent: (e) => { seen.push(e); firstEvent(); } });
  await gotFirst;
  assert.equal(seen[0].event, 'queued');

  await stopRedis();
  const events = await stream; // ends: it must not stay open on a dead store
  const last = events.at(-1)!;
  assert.equal(last.event, 'error', JSON.stringify(events));
  assert.equal((last.data as { code: string }).code, 'store_unavailable');

  const took: string[] = [];
  const timed = async (what: string, p: () => ReturnType<typeof call>) => {
    const started = performance.now();
    const r = await p();
    took.push(`${what} ${Math.round(performance.now() - started)} ms`);
    return r;
  };
  assertUnavailable(await timed('POST', () => call('POST', '/v1/jobs', { prompt: 'during the outage' })), 'queue_unavailable');
  assertUnavailable(await timed('GET', () => call('GET', `/v1/jobs/${id}`)), 'store_unavailable');
  assertUnavailable(await timed('cancel', () => call('POST', `/v1/jobs/${id}/cancel`)), 'store_unavailable');
  t.diagnostic(`503 answers while Redis is down: ${took.join(', ')}`);
  const sse = await fetch(`${base}/v1/jobs/${id}/events`, { signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) });
  assert.equal(sse.status, 503);
  assert.equal(((await sse.json()) as { code: string }).code, 'store_unavailable');
  const ready = await call('GET', '/readyz');
  assert.equal(ready.status, 503);

  // Same port, same AOF: the API reconnects by itself and the job accepted before is still there.
  await startRedis();
  const back = await waitFor(async () => {
    const r = await call('GET', `/v1/jobs/${id}`);
    return r.status === 200 ? r : undefined;
  }, { timeoutMs: 15_000, intervalMs: 100, what: 'GET to succeed again' });
  assert.equal(back.json.status, 'queued');
  const again = await call('POST', '/v1/jobs', { prompt: 'after the outage' });
  assert.equal(again.status, 202, JSON.stringify(again.json));
  const canceled = await call('POST', `/v1/jobs/${id}/cancel`);
  assert.equal(canceled.status, 200, JSON.stringify(canceled.json));
  assert.equal(canceled.json.status, 'canceled');
});

test('Redis frozen (SIGSTOP: connected, silent): a read answers 503 store_unavailable after the command timeout, then recovers', async (t) => {
  const created = await call('POST', '/v1/jobs', { prompt: 'before the freeze' });
  assert.equal(created.status, 202);
  redis!.process.kill('SIGSTOP');
  try {
    const started = performance.now();
    assertUnavailable(await call('GET', `/v1/jobs/${created.json.id}`), 'store_unavailable');
    t.diagnostic(`503 while Redis is frozen: ${Math.round(performance.now() - started)} ms (command timeout 1500 ms)`);
  } finally {
    redis!.process.kill('SIGCONT');
  }
  const back = await waitFor(async () => {
    const r = await call('GET', `/v1/jobs/${created.json.id}`);
    return r.status === 200 ? r : undefined;
  }, { timeoutMs: 15_000, intervalMs: 100, what: 'GET to succeed again' });
  assert.equal(back.json.id, created.json.id);
});

test('Redis lost during Prefer: wait: the accepted job is still answered 202 (as created), not a 503 that invites a resubmit', async () => {
  const probe = new Redis(`redis://127.0.0.1:${redisPort}`);
  const jobCount = async () => (await probe.keys('outage:job:*')).filter((k) => !k.endsWith(':webhook-attempts')).length;
  const before = await jobCount();
  const waiting = fetch(`${base}/v1/jobs`, {
    method: 'POST', headers: { 'content-type': 'application/json', prefer: 'wait=20' },
    body: JSON.stringify({ prompt: 'waiting through an outage' }), signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS * 3),
  });
  await waitFor(async () => (await jobCount()) > before, { what: 'the Prefer: wait job to be recorded' });
  probe.disconnect();
  await stopRedis();
  try {
    const res = await waiting;
    const body = (await res.json()) as { id?: string; status?: string; code?: string };
    assert.equal(res.status, 202, JSON.stringify(body));
    assert.equal(body.status, 'queued');
    assert.match(res.headers.get('location') ?? '', /^\/v1\/jobs\//);
  } finally {
    await startRedis();
    // The API reconnects by itself; the next test needs it back.
    await waitFor(async () => (await call('GET', '/v1/jobs/none')).status === 404, { timeoutMs: 15_000, intervalMs: 100, what: 'the API to reach Redis again' });
  }
});

test('close: open SSE streams get a last event and Prefer: wait requests answer with the job as it stands', async () => {
  const created = await call('POST', '/v1/jobs', { prompt: 'open at shutdown' });
  const id = created.json.id as string;
  let firstEvent!: () => void;
  const gotFirst = new Promise<void>((resolve) => { firstEvent = resolve; });
  const stream = collectSse(`${base}/v1/jobs/${id}/events`, { timeoutMs: 30_000, onEvent: () => firstEvent() });
  await gotFirst;
  const probe = new Redis(`redis://127.0.0.1:${redisPort}`);
  const jobCount = async () => (await probe.keys('outage:job:*')).filter((k) => !k.endsWith(':webhook-attempts')).length;
  const before = await jobCount();
  const waiting = fetch(`${base}/v1/jobs`, {
    method: 'POST', headers: { 'content-type': 'application/json', prefer: 'wait=60' },
    body: JSON.stringify({ prompt: 'waiting at shutdown' }), signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS * 3),
  });
  // Its job is recorded: from here on it waits (or is about to, and a closing app ends that at once).
  await waitFor(async () => (await jobCount()) > before, { what: 'the Prefer: wait job to be recorded' });
  probe.disconnect();

  await api.close();
  const events = await stream;
  const last = events.at(-1)!;
  assert.equal(last.event, 'error');
  assert.equal((last.data as { code: string }).code, 'shutting_down');
  const res = await waiting;
  assert.equal(res.status, 202);
  assert.equal(((await res.json()) as { status: string }).status, 'queued', 'answered with the job as it stands, long before wait=60');
});
