// Redis outages end to end: real API and worker processes, a private redis-server with AOF
// (appendonly yes, appendfsync everysec: compose's settings) that the test stops and restarts on
// the same port and data folder, and a real S3-protocol store.
// - While Redis is down the API answers 503 (no hang) and the worker's /readyz says not ready;
//   after the restart both recover by themselves and every job accepted with 202 succeeds.
// - SIGTERM: an open SSE stream gets a last event; with Redis down every process still exits
//   within SHUTDOWN_GRACE_MS + the shutdown margin.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, startLocalRedis, type LocalRedis } from '@sdsvc/local-redis';
import { startS3, type TestS3 } from '../support/s3.ts';
import { startService, waitForHttp, type ServiceProcess } from '../support/service-process.ts';
import { collectSse, type SseEvent } from '../support/sse.ts';
import { waitFor } from '../support/wait-for.ts';

const TERMINAL = ['succeeded', 'failed', 'canceled'];
const GRACE_MS = 1000;
/** SHUTDOWN_MARGIN_MS (apps/worker/src/process/shutdown.ts) plus time to start and stop Node. */
const EXIT_BOUND_MS = GRACE_MS + 5000 + 4000;
/** Far above the API's 2 s promise: a hang shows up as an abort, not as a slow pass. */
const CLIENT_TIMEOUT_MS = 10_000;
/** A few seconds of work for the tiny model on this machine: jobs are still queued or running when Redis stops. */
const JOB = { prompt: 'outage', width: 128, height: 128, steps: 12 };
/** Still running when the test sends SIGTERM. */
const LONG_JOB = { ...JOB, steps: 100, num_images: 2 };

interface Job { id: string; status: string; error: { code: string } | null; attempts: number }

describe('Redis outage end to end', { timeout: 240_000 }, () => {
  let dir: string;
  let redisPort: number;
  let redis: LocalRedis | null = null;
  let s3: TestS3;
  let env: Record<string, string>;
  let base: string;
  let api: ServiceProcess;
  let worker: ServiceProcess;
  let workerHealth: string;

  const startRedis = async () => { redis = await startLocalRedis({ port: redisPort, dir, appendOnly: true }); };
  const stopRedis = async () => { await redis?.stop(); redis = null; };

  async function startApi(): Promise<ServiceProcess> {
    const p = startService('api', env);
    await waitForHttp(`${base}/healthz`, 60_000).catch((err: Error) => { throw new Error(`${err.message}\n${p.tail()}`); });
    return p;
  }
  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; retryAfter: string | null; json: any }> {
    const res = await fetch(`${base}${path}`, {
      method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), json: await res.json() };
  }
  const getJob = async (id: string) => (await call('GET', `/v1/jobs/${id}`)).json as Job;
  const readyz = async () => (await fetch(`${workerHealth}/readyz`, { signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) })).status;
  /** Waits (bounded) for the process to exit; the exit must come by itself, the test never kills it. */
  async function exitsWithin(p: ServiceProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${p.role} still running ${ms} ms after SIGTERM\n${p.tail()}`)), ms); });
    try {
      return await Promise.race([p.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdsvc-e2e-outage-'));
    [redisPort, s3] = await Promise.all([freePort(), startS3()]);
    await startRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      ...s3.env,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      PORT: String(port), HOST: '127.0.0.1', PUBLIC_BASE_URL: base,
      MODELS_DIR: './models', DEFAULT_MODEL: 'tiny-sd15', JOB_ATTEMPTS: '3',
      SHUTDOWN_GRACE_MS: String(GRACE_MS), WORKER_HEALTH_PORT: '0', QUEUE_PREFIX: 'outage',
    };
    api = await startApi();
    worker = startService('worker', env);
    const listening = await worker.waitForLog((l) => typeof l.port === 'number' && /health server listening/.test(String(l.msg)), 'health server', 90_000);
    workerHealth = `http://127.0.0.1:${listening.port as number}`;
    await worker.waitForLog((l) => l.msg === 'service started', 'worker ready', 90_000);
    // The API re-reads the worker registry every second (and on demand, at most every 250 ms): a
    // job sent right after the worker registered could still be refused as model_unavailable.
    await waitFor(async () => {
      const { data } = (await call('GET', '/v1/models')).json as { data: Array<{ id: string; workers: number }> };
      return (data.find((m) => m.id === 'tiny-sd15')?.workers ?? 0) > 0;
    }, { what: 'the API to see the worker', timeoutMs: 10_000, intervalMs: 100 });
  });

  after(async () => {
    for (const p of [api, worker]) if (p && p.child.exitCode === null && p.child.signalCode === null) await p.stop('SIGKILL');
    await stopRedis();
    await s3?.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  test('Redis stopped while jobs are queued and running: 503 at once, not ready; restarted with AOF: every accepted job succeeds', async () => {
    assert.equal(await readyz(), 200, 'the worker is ready (Redis up, engine loaded)');
    const metrics = await fetch(`${workerHealth}/metrics`);
    assert.equal(metrics.status, 200, 'the health port also serves /metrics');
    assert.match(await metrics.text(), /^# HELP /m);
    const accepted: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call('POST', '/v1/jobs', { ...JOB, seed: i });
      assert.equal(r.status, 202, JSON.stringify(r.json));
      accepted.push(r.json.id);
    }
    // The worker has started on them (the later ones are still queued behind the first).
    await waitFor(async () => (await getJob(accepted[0])).status !== 'queued', { what: 'the first job to start', intervalMs: 20 });

    await stopRedis();
    const refused = await call('POST', '/v1/jobs', { ...JOB, seed: 99 });
    assert.equal(refused.status, 503);
    assert.equal(refused.json.code, 'queue_unavailable');
    assert.ok(Number(refused.retryAfter) > 0);
    const read = await call('GET', `/v1/jobs/${accepted[1]}`);
    assert.equal(read.status, 503);
    assert.equal(read.json.code, 'store_unavailable');
    assert.equal(await readyz(), 503, 'the worker is not ready without Redis');

    await startRedis(); // same port, same folder: the AOF brings the queue and the records back
    await waitFor(async () => (await readyz()) === 200, { what: 'the worker to be ready again', timeoutMs: 30_000, intervalMs: 100 });
    const late = await waitFor(async () => {
      const r = await call('POST', '/v1/jobs', { ...JOB, seed: 100 });
      return r.status === 202 ? r : undefined;
    }, { what: 'the API to accept jobs again', timeoutMs: 30_000, intervalMs: 100 });
    accepted.push(late.json.id);

    const done = await Promise.all(accepted.map((id) => waitFor(async () => {
      const job = await getJob(id);
      return TERMINAL.includes(job.status) ? job : undefined;
    }, { what: `job ${id} to finish`, timeoutMs: 120_000, intervalMs: 100 })));
    assert.deepEqual(done.map((j) => j.status), accepted.map(() => 'succeeded'),
      `${JSON.stringify(done.map((j) => [j.status, j.error]))}\n${worker.tail(20)}`);
  });

  test('SIGTERM: an open SSE stream gets a last event and the API exits at once', async (t) => {
    const created = await call('POST', '/v1/jobs', LONG_JOB);
    assert.equal(created.status, 202, JSON.stringify(created.json));
    const id = created.json.id as string;
    let opened!: () => void;
    const first = new Promise<void>((resolve) => { opened = resolve; });
    const stream = collectSse(`${base}/v1/jobs/${id}/events`, { timeoutMs: 30_000, onEvent: () => opened() });
    await first;
    const signalled = Date.now();
    api.child.kill('SIGTERM');
    const events: SseEvent[] = await stream;
    const last = events.at(-1)!;
    assert.ok(last.event === 'error' || TERMINAL.includes(last.event), `last event ${last.event}`);
    if (last.event === 'error') assert.equal((last.data as { code: string }).code, 'shutting_down');
    const exit = await exitsWithin(api, EXIT_BOUND_MS);
    t.diagnostic(`API exited ${Date.now() - signalled} ms after SIGTERM (code ${exit.code}); last SSE event: ${last.event} ${JSON.stringify(last.data).slice(0, 80)}`);
    assert.equal(exit.code, 0, api.tail());
    api = await startApi();
  });

  test('SIGTERM while Redis is down: API and worker exit within SHUTDOWN_GRACE_MS + margin', async (t) => {
    const created = await call('POST', '/v1/jobs', LONG_JOB);
    assert.equal(created.status, 202, JSON.stringify(created.json));
    await waitFor(async () => (await getJob(created.json.id)).status === 'running', { what: 'a job to run', intervalMs: 20 });
    await stopRedis();
    const signalled = Date.now();
    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    const timed = (p: ServiceProcess) => exitsWithin(p, EXIT_BOUND_MS).then((e) => ({ ...e, ms: Date.now() - signalled }));
    const [apiExit, workerExit] = await Promise.all([timed(api), timed(worker)]);
    t.diagnostic(`Redis down, SIGTERM: API exited after ${apiExit.ms} ms (code ${apiExit.code}), worker after ${workerExit.ms} ms (code ${workerExit.code}); SHUTDOWN_GRACE_MS=${GRACE_MS}`);
    assert.equal(apiExit.code, 0, `the API closes cleanly without Redis\n${api.tail()}`);
    // The worker cannot hand its job back without Redis: it gives up after a bounded wait and exits
    // cleanly; the stalled-job check of another worker re-runs the job once Redis is back.
    assert.equal(workerExit.code, 0, worker.tail());
    assert.ok(worker.logs.some((l) => /not handed back in time/.test(String(l.msg))), 'the worker says why it did not hand the job back');
  });
});
