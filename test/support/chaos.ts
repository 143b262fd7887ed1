// Chaos run shared by the short test (test/e2e/chaos.e2e.test.ts) and the long bench
// (test/bench/chaos.bench.ts): real API, private Redis, real S3-protocol store, signed-webhook
// receiver, and two worker processes that are SIGKILLed and restarted over and over while jobs
// run, with a short BullMQ lock. Then both workers stay up until every job has ended.
import { S3ObjectStore } from '@sdsvc/storage';
import { startE2eStack, type JobResourceLike } from './e2e-stack.ts';
import { slowStepsEnv, startService, type ServiceProcess } from './service-process.ts';
import { waitFor } from './wait-for.ts';

export interface ChaosOptions {
  jobs: number;
  /** How long workers keep being killed. */
  chaosMs: number;
  /** A worker is killed after living a random time in [minLifeMs, maxLifeMs] once ready. */
  minLifeMs: number;
  maxLifeMs: number;
  /** After the chaos: how long every job has to end. */
  settleMs: number;
  /** Each UNet evaluation is held this long (test hook), so kills land mid-job. */
  stepDelayMs?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  jobs: number;
  kills: number;
  /** Stalled jobs the workers reported (a killed worker's job taken back). */
  stalls: number;
  /** Attempts that found another attempt owning their job (fencing refused their writes). */
  superseded: number;
  byStatus: Record<string, number>;
  failedCodes: Record<string, number>;
  /** Jobs still not terminal at the end (must be empty). */
  unfinished: string[];
  /** Succeeded jobs whose object folder holds other keys than their one result set. */
  extraObjects: Array<{ id: string; keys: string[]; result: string[] }>;
  /** Terminal jobs whose terminal webhook never arrived. */
  missingWebhooks: string[];
  /** Terminal webhook events per job (distinct webhook-id): must be exactly one. */
  terminalWebhooksPerJob: Record<string, number>;
  elapsedMs: number;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const stack = await startE2eStack({
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    JOB_ATTEMPTS: '3',
    RECONCILE_INTERVAL_MS: '1000',
    WEBHOOK_RETRY_SCHEDULE: '0,200ms,500ms,1s,2s,2s,2s',
  });
  const procs: ServiceProcess[] = [];
  const workerEnv = { ...stack.env, LOG_LEVEL: 'info', ...(opts.stepDelayMs ? slowStepsEnv(opts.stepDelayMs) : {}) };
  let kills = 0;
  const startups: number[] = [];
  let chaos = true;
  try {
    const hooks = { url: stack.hooks.url, events: ['job.succeeded', 'job.failed', 'job.canceled'] };
    const jobs: JobResourceLike[] = [];
    for (let i = 0; i < opts.jobs; i++) {
      jobs.push(await stack.postJob({
        prompt: `chaos ${i}`, width: 64, height: 64, steps: 1 + (i % 2), seed: i, scheduler: 'euler', webhook: hooks,
      }));
    }
    log(`${jobs.length} jobs queued`);

    // Two worker slots; each kills its process after a random life and starts a new one.
    const slot = async (n: number) => {
      while (chaos) {
        const w = startService('worker', workerEnv);
        procs.push(w);
        const born = Date.now();
        // Its life counts from when it takes jobs, so every kill can land on work in flight.
        await w.waitForLog((l) => l.msg === 'generate worker started', 'worker ready', 60_000).catch(() => undefined);
        startups.push(Date.now() - born);
        const life = opts.minLifeMs + Math.random() * (opts.maxLifeMs - opts.minLifeMs);
        await sleep(life);
        if (!chaos) return;
        w.child.kill('SIGKILL');
        await w.exited;
        kills++;
        log(`slot ${n}: worker ${w.child.pid} SIGKILLed after ${Math.round(life)} ms`);
      }
    };
    const slots = [slot(0), slot(1)];
    await sleep(opts.chaosMs);
    chaos = false;
    await Promise.all(slots);
    const alive = procs.filter((p) => p.exitStatus() === null);
    log(`chaos over after ${kills} kills; ${alive.length} workers left running; worker start-up ${startups.join(',')} ms`);
    while (procs.filter((p) => p.exitStatus() === null).length < 2) procs.push(startService('worker', workerEnv));

    const final = new Map<string, JobResourceLike>();
    await waitFor(async () => {
      for (const j of jobs) {
        if (final.has(j.id)) continue;
        const cur = await stack.getJob(j.id);
        if (TERMINAL.has(cur.status)) final.set(j.id, cur);
      }
      return final.size === jobs.length ? true : undefined;
    }, { timeoutMs: opts.settleMs, intervalMs: 250, what: 'every job terminal' }).catch(() => undefined);

    const unfinished = jobs.filter((j) => !final.has(j.id)).map((j) => j.id);
    // Every terminal job's webhook: allow the delivery retries a little time.
    const terminalHooks = () => {
      const per: Record<string, Set<string>> = {};
      for (const r of stack.hooks.received) {
        if (!['job.succeeded', 'job.failed', 'job.canceled'].includes(r.type)) continue;
        (per[r.payload.data.id] ??= new Set()).add(r.id);
      }
      return per;
    };
    await waitFor(() => ([...final.keys()].every((id) => terminalHooks()[id]?.size) ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 250, what: 'terminal webhooks' }).catch(() => undefined);
    const per = terminalHooks();

    const objects = new S3ObjectStore({
      bucket: stack.s3.bucket, prefix: stack.env.STORAGE_URL!.replace(/^s3:\/\/[^/]+\/?/, ''), endpoint: stack.s3.endpoint,
      region: stack.s3.region, forcePathStyle: true, credentials: stack.s3.credentials,
    });
    const extraObjects: ChaosReport['extraObjects'] = [];
    try {
      for (const [id, job] of final) {
        if (job.status !== 'succeeded') continue;
        const keys = (await objects.list(objects.keyPrefix ? `${objects.keyPrefix}/${id}` : id)).sort();
        const result = (job.result?.images ?? []).map((i) => i.key).sort();
        if (JSON.stringify(keys) !== JSON.stringify(result)) extraObjects.push({ id, keys, result });
      }
    } finally {
      await objects.close();
    }

    const byStatus: Record<string, number> = {};
    const failedCodes: Record<string, number> = {};
    for (const j of final.values()) {
      byStatus[j.status] = (byStatus[j.status] ?? 0) + 1;
      if (j.status === 'failed') failedCodes[j.error?.code ?? '?'] = (failedCodes[j.error?.code ?? '?'] ?? 0) + 1;
    }
    return {
      jobs: jobs.length, kills, byStatus,
      stalls: procs.reduce((n, p) => n + p.logs.filter((l) => /stalled/.test(String(l.msg))).length, 0),
      superseded: procs.reduce((n, p) => n + p.logs.filter((l) => /another attempt owns/.test(String(l.msg))).length, 0), failedCodes, unfinished, extraObjects,
      missingWebhooks: [...final.keys()].filter((id) => !per[id]?.size),
      terminalWebhooksPerJob: Object.fromEntries(Object.entries(per).map(([id, s]) => [id, s.size])),
      elapsedMs: Date.now() - t0,
    };
  } finally {
    chaos = false;
    for (const p of procs) if (p.exitStatus() === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await stack.stop();
  }
}
