// No accepted job is lost, and a worker stays responsive while its engine runs a long step:
// real API and worker processes with a short BullMQ lock (WORKER_LOCK_DURATION_MS), a private
// Redis and a real S3-protocol store. Every test starts the workers it needs. Steps are made slow
// by construction (slowStepsEnv: the engine thread holds each UNet evaluation), so "a step lasts
// longer than the lock" holds on any machine.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { startE2eStack, type E2eStack } from '../support/e2e-stack.ts';
import { readPng } from '../support/png.ts';
import { slowStepsEnv, unetRunsOfJob, type ServiceProcess } from '../support/service-process.ts';
import { waitFor } from '../support/wait-for.ts';

const TERMINAL = ['succeeded', 'failed', 'canceled'];
const LOCK_MS = 1500;
/** Every UNet evaluation is held this long: longer than the whole lock. */
const STEP_MS = 2000;
const SLOW_JOB = { prompt: 'a slow job', width: 64, height: 64, num_images: 1, scheduler: 'euler' };

describe('recovery end to end (short BullMQ lock)', { timeout: 120_000 }, () => {
  let stack: E2eStack;
  let redis: Redis;
  before(async () => {
    stack = await startE2eStack({ WORKER_LOCK_DURATION_MS: String(LOCK_MS), WORKER_STALLED_INTERVAL_MS: '1000' });
    redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  const bullKey = (id: string) => `sdsvc:bull:generate.tiny-sd15:${id}`;
  /** BullMQ's own counters on the queue entry: attempts started, attempts made, stalls. */
  async function bullCounters(id: string): Promise<{ ats: number; atm: number; stc: number }> {
    const [ats, atm, stc] = await redis.hmget(bullKey(id), 'ats', 'atm', 'stc');
    return { ats: Number(ats ?? 0), atm: Number(atm ?? 0), stc: Number(stc ?? 0) };
  }
  const logsOf = (id: string, msg: string) => stack.workers.flatMap((w) => w.logs
    .filter((l) => l.job_id === id && l.msg === msg).map(() => w.child.pid));
  const stalledLogs = (id: string) => stack.workers.flatMap((w) => w.logs.filter((l) => /stalled/.test(String(l.msg)) && l.job_id === id));
  const started: ServiceProcess[] = [];
  async function startWorker(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const w = await stack.startWorker(env);
    started.push(w);
    return w;
  }
  afterEach(async () => { await Promise.all(started.splice(0).map((w) => w.stop())); });

  test('steps longer than the lock: it is renewed during each step, and the job runs once and is never stalled', async (t) => {
    const worker = await startWorker(slowStepsEnv(STEP_MS));
    const ready = worker.logs.find((l) => l.msg === 'generate worker started');
    assert.equal(ready?.lockDurationMs, LOCK_MS, 'the worker took WORKER_LOCK_DURATION_MS');
    assert.equal(ready?.stalledIntervalMs, 1000, 'the worker took WORKER_STALLED_INTERVAL_MS');

    const job = await stack.postJob({ ...SLOW_JOB, steps: 3, seed: 11 });
    // Sample the lock's remaining time while the job runs: a rise means the worker's event loop
    // renewed it while the engine thread was busy with a step.
    const samples: Array<{ at: number; pttl: number; step: number }> = [];
    const done = await waitFor(async () => {
      const [pttl, rec] = await Promise.all([redis.pttl(`${bullKey(job.id)}:lock`), stack.getJob(job.id)]);
      samples.push({ at: Date.now(), pttl, step: rec.progress.step });
      return TERMINAL.includes(rec.status) ? rec : undefined;
    }, { timeoutMs: 90_000, intervalMs: 100, what: `job ${job.id} to finish` });

    assert.equal(done.status, 'succeeded', `${JSON.stringify(done.error)}\n${worker.tail(10)}`);
    assert.equal(done.attempts, 1, 'one attempt on the job record');
    assert.deepEqual(await bullCounters(job.id), { ats: 1, atm: 1, stc: 0 }, 'BullMQ: started once, never stalled');
    assert.deepEqual(stalledLogs(job.id), [], worker.tail(20));
    assert.deepEqual(logsOf(job.id, 'job started'), [worker.child.pid], 'started once');
    assert.deepEqual(logsOf(job.id, 'job succeeded'), [worker.child.pid], 'succeeded once');

    const running = samples.filter((s) => s.pttl > 0);
    let renewals = 0;
    for (let i = 1; i < running.length; i++) if (running[i].pttl > running[i - 1].pttl + 100) renewals++;
    const span = running.length > 1 ? running.at(-1)!.at - running[0].at : 0;
    const stepStarts = samples.filter((s, i) => i > 0 && s.step > samples[i - 1].step).map((s) => s.at);
    const stepMs = stepStarts.slice(1).map((at, i) => at - stepStarts[i]);
    t.diagnostic(`job ran ~${span} ms (${(span / LOCK_MS).toFixed(1)} lock periods), steps ~${stepMs.join('/')} ms (lock ${LOCK_MS} ms, renewed every ${LOCK_MS / 2} ms), ${renewals} lock renewals seen in ${running.length} samples`);
    // The premise, checked rather than assumed: every UNet evaluation of the job was held longer
    // than the whole lock, so without renewals during a step the lock would have lapsed.
    const runs = unetRunsOfJob(worker, job.id); // not the warm-up's
    assert.equal(runs.length, done.progress.total, 'one UNet evaluation per step');
    assert.ok(runs.every((r) => r.ms > LOCK_MS), `each step held longer than the lock: ${runs.map((r) => r.ms).join(',')} ms`);
    // BullMQ renews every LOCK_MS / 2: at least once inside each step.
    assert.ok(renewals >= runs.length, `the lock was renewed while the job ran (renewals ${renewals}; pttl ${running.map((s) => s.pttl).join(',')})`);
    // While it ran the lock never lapsed: every sample up to the last step saw it held.
    const beforeLastStep = samples.filter((s) => s.step >= 1 && s.step < done.progress.total);
    assert.ok(beforeLastStep.length > 0);
    assert.ok(beforeLastStep.every((s) => s.pttl > 0), `lock held during every step: ${beforeLastStep.map((s) => s.pttl).join(',')}`);
  });

  test('SIGKILL mid-job: the stalled check of a new worker takes the job back and it succeeds exactly once', async () => {
    const first = await startWorker(slowStepsEnv(STEP_MS));
    const job = await stack.postJob({ ...SLOW_JOB, steps: 3, seed: 12, webhook: { url: stack.hooks.url } });
    await stack.waitForJob(job.id, (j) => j.status === 'running' && j.progress.step >= 1, 'to be running');
    const exit = await first.stop('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    const orphan = await stack.getJob(job.id);
    assert.equal(orphan.status, 'running', 'the dead worker left it running (nobody handed it back)');

    const second = await startWorker();
    const done = await stack.waitForJob(job.id, (j) => TERMINAL.includes(j.status), 'to finish on the second worker');
    assert.equal(done.status, 'succeeded', `${JSON.stringify(done.error)}\n${second.tail(20)}`);
    assert.ok(second.logs.some((l) => l.job_id === job.id && /stalled/.test(String(l.msg))),
      `the second worker's stalled check took the job back\n${second.tail(20)}`);
    const counters = await bullCounters(job.id);
    assert.equal(counters.stc, 1, `stalled once: ${JSON.stringify(counters)}`);
    assert.equal(counters.ats, 2, `started twice (once per worker): ${JSON.stringify(counters)}`);
    assert.deepEqual(logsOf(job.id, 'job succeeded'), [second.child.pid], 'ran to completion once, on the second worker');

    assert.equal(done.result!.images.length, 1);
    const img = done.result!.images[0];
    const res = await fetch(img.url);
    assert.equal(res.status, 200);
    const png = Buffer.from(await res.arrayBuffer());
    assert.equal(png.length, img.bytes);
    const info = readPng(png);
    assert.deepEqual([info.width, info.height], [64, 64]);

    const hooks = await waitFor(() => {
      const mine = stack.hooks.received.filter((h) => h.payload.data.id === job.id);
      return mine.some((h) => h.type === 'job.succeeded') ? mine : undefined;
    }, { what: 'job.succeeded webhook' });
    // Deliveries run concurrently: compare the set of messages, one per (job, event).
    assert.deepEqual(hooks.map((h) => h.type).sort(), ['job.started', 'job.succeeded'], 'one message per (job, event)');
  });

  test('a job whose worker is lost JOB_ATTEMPTS times ends failed (worker_lost), not running for ever', async () => {
    const job = await stack.postJob({ ...SLOW_JOB, steps: 3, seed: 13 });
    // JOB_ATTEMPTS=2 (stack env): two workers die mid-job one after the other; the second one gets
    // the job back from the first one's stall.
    for (let round = 1; round <= 2; round++) {
      const doomed = await startWorker(slowStepsEnv(STEP_MS));
      await doomed.waitForLog((l) => l.job_id === job.id && l.msg === 'job started', `job started (round ${round})`, 60_000);
      assert.equal((await doomed.stop('SIGKILL')).signal, 'SIGKILL');
    }
    // A healthy worker finds the job lost again: the record (what clients read) must end `failed`.
    const judge = await startWorker();
    const done = await stack.waitForJob(job.id, (j) => TERMINAL.includes(j.status), 'to end', 60_000);
    assert.equal(done.status, 'failed', `${JSON.stringify(done)}\n${judge.tail(10)}`);
    assert.equal(done.error?.code, 'worker_lost');
    assert.deepEqual(logsOf(job.id, 'job succeeded'), [], 'never completed');
  });
});
