// ROLE=all shutdown: the worker's grace period and hand-back start at the signal, in parallel with
// the API's close. A request whose body is still arriving keeps the API closing; the worker must
// stop (grace, then hand its running job back) meanwhile, not after the API has closed.
import assert from 'node:assert/strict';
import { request, type ClientRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '@sdsvc/local-redis';
import { startTestRedis, type TestRedis } from '../support/redis.ts';
import { startService, waitForHttp, type ServiceProcess } from '../support/service-process.ts';
import { waitFor } from '../support/wait-for.ts';

const GRACE_MS = 1000;

describe('ROLE=all shutdown', { timeout: 180_000 }, () => {
  let dir: string;
  let redis: TestRedis;
  let base: string;
  let port: number;
  let svc: ServiceProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdsvc-e2e-all-'));
    [redis, port] = await Promise.all([startTestRedis(), freePort()]);
    base = `http://127.0.0.1:${port}`;
    svc = startService('all', {
      REDIS_URL: redis.url, STORAGE_URL: `file://${join(dir, 'storage')}`, FILE_URL_SECRET: 'test-secret-0123456789',
      PORT: String(port), HOST: '127.0.0.1', PUBLIC_BASE_URL: base, MODELS_DIR: './models', DEFAULT_MODEL: 'tiny-sd15',
      SHUTDOWN_GRACE_MS: String(GRACE_MS), QUEUE_PREFIX: 'all',
    });
    await svc.waitForLog((l) => l.msg === 'service started', 'ROLE=all ready', 120_000);
    await waitForHttp(`${base}/healthz`);
  });
  after(async () => {
    if (svc && svc.child.exitCode === null && svc.child.signalCode === null) await svc.stop('SIGKILL');
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('SIGTERM: the worker hands its job back while the API is still closing, then the process exits 0', async () => {
    const res = await fetch(`${base}/v1/jobs`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'long', width: 128, height: 128, steps: 150, num_images: 2 }),
    });
    const job = (await res.json()) as { id: string };
    assert.equal(res.status, 202, JSON.stringify(job));
    await waitFor(async () => ((await (await fetch(`${base}/v1/jobs/${job.id}`)).json()) as { status: string }).status === 'running',
      { what: 'the job to run', intervalMs: 20 });

    // A submission whose body has not fully arrived: the API's close waits for it.
    const body = JSON.stringify({ prompt: 'slow upload' });
    let slow!: ClientRequest;
    const answered = new Promise<number>((resolve, reject) => {
      slow = request(`${base}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (r) => { r.resume(); resolve(r.statusCode ?? 0); });
      slow.on('error', reject);
    });
    slow.write(body.slice(0, 5));
    const posts = () => svc.logs.filter((l) => l.msg === 'incoming request' && (l.req as { method?: string; url?: string } | undefined)?.url === '/v1/jobs'
      && (l.req as { method?: string }).method === 'POST').length;
    await waitFor(() => posts() >= 2, { what: 'the slow request to be in (headers received)', timeoutMs: 10_000 });

    svc.child.kill('SIGTERM');
    // With the API still waiting for that request, the worker goes through its grace period and
    // hands the job back.
    await svc.waitForLog((l) => l.msg === 'generate worker stopping', 'the worker to start stopping', 10_000);
    await svc.waitForLog((l) => l.msg === 'generate worker stopped', 'the worker to stop (job handed back)', GRACE_MS + 4000);
    assert.equal(svc.child.exitCode, null, 'the process still runs: the API is closing');

    slow.end(body.slice(5));
    const status = await answered.catch(() => 0);
    const exit = await svc.exited;
    assert.equal(exit.code, 0, `clean exit\n${svc.tail(20)}`);
    assert.ok(status === 0 || status >= 200, 'the slow request got an answer or its connection closed');
  });
});
