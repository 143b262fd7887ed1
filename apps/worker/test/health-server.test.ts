// The worker health server (WORKER_HEALTH_PORT) on a real port: /healthz always answers while the
// process runs; /readyz follows the readiness it is given (ready → not ready → ready), answers
// "not ready" when the check hangs, and from the start of a shutdown.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHealthServer, type RunningHealthServer, type WorkerReadiness } from '../src/health-server.ts';

let server: RunningHealthServer;
let base: string;
let next: () => Promise<WorkerReadiness> = async () => ({ ok: true, detail: {} });

before(async () => {
  server = await startHealthServer({ port: 0, host: '127.0.0.1', readyTimeoutMs: 300, ready: () => next() });
  base = `http://127.0.0.1:${server.port}`;
});
after(async () => { await server.close(); });

async function get(path: string): Promise<{ status: number; type: string; body: any }> {
  const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json() };
}

test('readyz follows the worker: ready, then not ready (with the reason), then ready again', async () => {
  assert.notEqual(server.port, 0, 'port 0 binds a free port and reports it');
  next = async () => ({ ok: true, detail: { redis: { ok: true }, engine: { ok: true } } });
  const ready = await get('/readyz');
  assert.equal(ready.status, 200);
  assert.equal(ready.body.status, 'ready');

  next = async () => ({ ok: false, detail: { redis: { ok: false, error: 'connection refused' }, engine: { ok: true } } });
  const down = await get('/readyz');
  assert.equal(down.status, 503);
  assert.match(down.type, /^application\/problem\+json/);
  assert.equal(down.body.code, 'not_ready');
  assert.equal(down.body.checks.redis.error, 'connection refused');
  assert.equal((await get('/healthz')).status, 200, 'alive while not ready');

  next = async () => { throw new Error('engine thread exited'); };
  const failed = await get('/readyz');
  assert.equal(failed.status, 503);
  assert.equal(failed.body.checks.error, 'engine thread exited');

  next = () => new Promise(() => {}); // a check that never answers
  const hung = await get('/readyz');
  assert.equal(hung.status, 503);
  assert.match(hung.body.checks.error, /more than 300 ms/);

  next = async () => ({ ok: true, detail: {} });
  assert.equal((await get('/readyz')).status, 200);
});

test('once shutting down, readyz says not ready while healthz still answers', async () => {
  next = async () => ({ ok: true, detail: {} });
  server.markStopping();
  const res = await get('/readyz');
  assert.equal(res.status, 503);
  assert.equal(res.body.checks.stopping, true);
  assert.deepEqual((await get('/healthz')).body, { status: 'ok' });
});
