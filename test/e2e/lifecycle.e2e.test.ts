// Issue #7 end to end, with real API and worker processes, a private Redis and the file store
// (whose signed URLs really expire): attempt fencing, the webhook outbox across a kill, fresh image
// URLs at delivery, cancel in its interleavings, engine-thread death, JOB_TIMEOUT_MS.
// Steps are made slow by the step-delay test hook where a test must act while a job runs.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { FileObjectStore } from '@sdsvc/storage';
import { startE2eStack, TEST_WEBHOOK_SECRET, type E2eStack, type JobResourceLike } from '../support/e2e-stack.ts';
import { slowStepsEnv, type ServiceProcess } from '../support/service-process.ts';
import { waitFor } from '../support/wait-for.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const FILE_SECRET = 'lifecycle-test-secret-0123456789';
const SMALL = { width: 64, height: 64, scheduler: 'euler', num_images: 1 };

describe('job lifecycle end to end (#7)', { timeout: 240_000 }, () => {
  let stack: E2eStack;
  let redis: Redis;
  let storageRoot: string;
  const started: ServiceProcess[] = [];
  const receivers: WebhookReceiver[] = [];

  before(async () => {
    storageRoot = await mkdtemp(join(tmpdir(), 'sdsvc-lifecycle-'));
    stack = await startE2eStack({
      STORAGE_URL: `file://${storageRoot}`, FILE_URL_SECRET: FILE_SECRET, SIGNED_URL_TTL_SECONDS: '2',
      WORKER_LOCK_DURATION_MS: '1000', WORKER_STALLED_INTERVAL_MS: '1000', JOB_ATTEMPTS: '3', RECONCILE_INTERVAL_MS: '1000',
      WEBHOOK_RETRY_SCHEDULE: '0,200ms,3s',
    });
    redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    redis?.disconnect();
    await Promise.all(receivers.map((r) => r.close()));
    await stack?.stop();
  });
  afterEach(async () => { await Promise.all(started.splice(0).map((w) => w.stop('SIGKILL'))); });

  async function worker(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const w = await stack.startWorker(env);
    started.push(w);
    return w;
  }
  const hookFor = (url = stack.hooks.url) => ({ url, events: ['job.started', 'job.succeeded', 'job.failed', 'job.canceled'] });
  const terminal = (j: JobResourceLike) => ['succeeded', 'failed', 'canceled'].includes(j.status);
  const hooksOf = (id: string, type: string, r: WebhookReceiver = stack.hooks) => r.received.filter((h) => h.payload.data.id === id && h.type === type);
  async function webhookArrives(id: string, type: string, r: WebhookReceiver = stack.hooks) {
    return await waitFor(() => hooksOf(id, type, r)[0], { timeoutMs: 30_000, what: `${type} webhook of ${id}` });
  }
  const logged = (w: ServiceProcess, id: string, msg: string | RegExp) => w.logs.some((l) => l.job_id === id && (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));
  const filesOf = async (id: string) => {
    const store = await FileObjectStore.open({ root: storageRoot, publicBaseUrl: stack.baseUrl, secret: FILE_SECRET });
    return await store.list(id);
  };

  test('fencing: a worker that lost its lock (SIGSTOP) cannot write after another took the job: one result set, one webhook', async () => {
    const a = await worker(slowStepsEnv(600));
    const job = await stack.postJob({ ...SMALL, prompt: 'fenced', steps: 10, seed: 21, webhook: hookFor() });
    await a.waitForLog((l) => l.job_id === job.id && l.msg === 'job started', 'A started the job');
    const b = await worker(slowStepsEnv(100));
    a.child.kill('SIGSTOP'); // A stops renewing its lock; B's stalled check takes the job back
    try {
      const done = await stack.waitForJob(job.id, terminal, 'ends (run by B)', 60_000);
      assert.equal(done.status, 'succeeded');
      // B logs right after its transition applied: the record can be read before the line arrives.
      await b.waitForLog((l) => l.job_id === job.id && l.msg === 'job succeeded', 'B finished it', 10_000);
    } finally {
      a.child.kill('SIGCONT');
    }
    // A wakes up, computes on, and is told at its next write that another attempt owns the job.
    await a.waitForLog((l) => l.job_id === job.id && /another attempt owns this job|result not recorded/.test(String(l.msg)), 'A refused', 30_000);
    assert.ok(!logged(a, job.id, 'job succeeded'), 'A recorded nothing');
    assert.deepEqual(await filesOf(job.id), [`${job.id}/0.png`], 'one result set');
    await webhookArrives(job.id, 'job.succeeded');
    const ids = new Set(stack.hooks.received.filter((h) => h.payload.data.id === job.id && h.type === 'job.succeeded').map((h) => h.id));
    assert.deepEqual([...ids], [`msg_${job.id}_job.succeeded`], 'one notification');
  });

  test('outbox: a worker killed right after the job succeeded (before any enqueue) still gets the webhook out', async () => {
    const dying = await worker({ SDSVC_TEST_EXIT_AFTER: 'succeeded' });
    const job = await stack.postJob({ ...SMALL, prompt: 'outbox', steps: 1, seed: 22, webhook: hookFor() });
    const exit = await dying.exited;
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal((await stack.getJob(job.id)).status, 'succeeded');
    assert.equal(hooksOf(job.id, 'job.succeeded').length, 0, 'nothing was sent by the dead worker');
    await worker(); // any worker process drains the outbox
    const hook = await webhookArrives(job.id, 'job.succeeded');
    assert.equal(hook.payload.data.status, 'succeeded');
  });

  test('a webhook delivered after SIGNED_URL_TTL_SECONDS carries image URLs that still work', async () => {
    let firstAt = 0;
    const slow = await startWebhookReceiver(TEST_WEBHOOK_SECRET, {
      // Refuse the terminal event until the URLs signed at the first attempt (2 s TTL) are dead.
      respond: (h) => {
        if (h.type !== 'job.succeeded') return 204;
        firstAt ||= Date.now();
        return Date.now() - firstAt < 2500 ? 503 : 204;
      },
    });
    receivers.push(slow);
    await worker();
    const job = await stack.postJob({ ...SMALL, prompt: 'late webhook', steps: 1, seed: 23, webhook: hookFor(slow.url) });
    const hook = await webhookArrives(job.id, 'job.succeeded', slow);
    const refused = slow.attempts.find((h) => h.type === 'job.succeeded' && h.payload.data.id === job.id)!;
    const url = (h: typeof hook) => (h.payload.data as unknown as { result: { images: Array<{ url: string }> } }).result.images[0]!.url;
    const stale = await fetch(url(refused));
    assert.equal(stale.status, 403, 'the URL of the first attempt has expired (the test can see expiry)');
    const fresh = await fetch(url(hook));
    assert.equal(fresh.status, 200, 'the URL of the delivered attempt works');
    assert.equal(fresh.headers.get('content-type'), 'image/png');
  });

  test('cancel while running, and with the pub/sub message lost (flag only): both stop at the next step', async () => {
    await worker(slowStepsEnv(400));
    const a = await stack.postJob({ ...SMALL, prompt: 'cancel running', steps: 30, seed: 24, webhook: hookFor() });
    await stack.waitForJob(a.id, (j) => j.status === 'running' && j.progress.step >= 1, 'running');
    const res = await fetch(`${stack.baseUrl}/v1/jobs/${a.id}/cancel`, { method: 'POST' });
    assert.equal(res.status, 202);
    assert.equal((await stack.waitForJob(a.id, terminal, 'canceled')).status, 'canceled');
    await webhookArrives(a.id, 'job.canceled');

    const b = await stack.postJob({ ...SMALL, prompt: 'cancel lost message', steps: 30, seed: 25, webhook: hookFor() });
    await stack.waitForJob(b.id, (j) => j.status === 'running' && j.progress.step >= 1, 'running');
    await redis.hset(`sdsvc:job:${b.id}`, 'cancel_requested', '1'); // the flag, and no message
    const ended = await stack.waitForJob(b.id, terminal, 'canceled');
    assert.equal(ended.status, 'canceled');
    assert.ok(ended.progress.step < 30, `stopped early (step ${ended.progress.step})`);
    await webhookArrives(b.id, 'job.canceled');
  });

  test('cancel after a SIGTERM hand-back, and cancel of a stalled job: canceled, never run again', async () => {
    const w1 = await worker({ ...slowStepsEnv(400), SHUTDOWN_GRACE_MS: '0' });
    const handed = await stack.postJob({ ...SMALL, prompt: 'handed back', steps: 30, seed: 26, webhook: hookFor() });
    await stack.waitForJob(handed.id, (j) => j.status === 'running', 'running');
    await w1.stop('SIGTERM');
    assert.ok(logged(w1, handed.id, /handed back/), 'handed back on SIGTERM');
    assert.equal((await stack.getJob(handed.id)).status, 'queued');
    assert.equal((await fetch(`${stack.baseUrl}/v1/jobs/${handed.id}/cancel`, { method: 'POST' })).status, 200);

    const w2 = await worker(slowStepsEnv(400));
    const stalled = await stack.postJob({ ...SMALL, prompt: 'stalled', steps: 30, seed: 27, webhook: hookFor() });
    await stack.waitForJob(stalled.id, (j) => j.status === 'running', 'running');
    w2.child.kill('SIGKILL');
    await w2.exited;
    await fetch(`${stack.baseUrl}/v1/jobs/${stalled.id}/cancel`, { method: 'POST' });
    const w3 = await worker(); // takes back the stalled job: the cancel wins at its start
    for (const id of [handed.id, stalled.id]) {
      assert.equal((await stack.waitForJob(id, terminal, 'canceled')).status, 'canceled');
      await webhookArrives(id, 'job.canceled');
      assert.ok(!logged(w3, id, 'job started'), 'never started again');
    }
  });

  test('a job whose worker was lost JOB_ATTEMPTS times ends failed with worker_lost, job.failed sent, SSE released', async () => {
    // JOB_ATTEMPTS=1 on the workers: the first lost worker is already one too many.
    const a = await worker({ ...slowStepsEnv(500), JOB_ATTEMPTS: '1' });
    const job = await stack.postJob({ ...SMALL, prompt: 'lost once too often', steps: 20, seed: 31, webhook: hookFor() });
    await a.waitForLog((l) => l.job_id === job.id && l.msg === 'job started', 'A started the job');
    const events = fetch(`${stack.baseUrl}/v1/jobs/${job.id}/events`).then((r) => r.text());
    a.child.kill('SIGKILL');
    await a.exited;
    const b = await worker({ JOB_ATTEMPTS: '1' });
    const ended = await stack.waitForJob(job.id, terminal, 'fails');
    assert.equal(ended.status, 'failed');
    assert.equal(ended.error?.code, 'worker_lost');
    assert.ok(!logged(b, job.id, 'job started'), 'not run again');
    await webhookArrives(job.id, 'job.failed');
    assert.match(await events, /event: failed/, 'the SSE stream got the end and closed');
  });

  test('engine thread death: the job in flight is retried (not model_error), the thread restarted', async () => {
    const crashFile = join(storageRoot, '.crash-next-job');
    const w = await worker({ SDSVC_TEST_ENGINE_CRASH_FILE: crashFile });
    await writeFile(crashFile, '');
    const job = await stack.postJob({ ...SMALL, prompt: 'engine dies', steps: 1, seed: 28 });
    const done = await stack.waitForJob(job.id, terminal, 'ends', 60_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.attempts, 2, 'ran a second time');
    assert.ok(w.logs.some((l) => /engine thread crashed/.test(String(l.msg))), 'the thread died and was restarted');
  });

  test('JOB_TIMEOUT_MS: a job past its deadline ends failed/timeout and the worker takes the next job', async () => {
    await worker({ ...slowStepsEnv(800), JOB_TIMEOUT_MS: '2000' });
    const slow = await stack.postJob({ ...SMALL, prompt: 'too slow', steps: 20, seed: 29, webhook: hookFor() });
    const next = await stack.postJob({ ...SMALL, prompt: 'quick', steps: 1, seed: 30 });
    const failed = await stack.waitForJob(slow.id, terminal, 'times out');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'timeout');
    await webhookArrives(slow.id, 'job.failed');
    assert.equal((await stack.waitForJob(next.id, terminal, 'runs next')).status, 'succeeded');
  });
});
