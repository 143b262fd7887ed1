// The reconciler: the backstop that makes "every accepted job ends" true whatever crashed where.
// Runs in every worker process; a short Redis lease lets one process at a time do a pass (a pass is
// idempotent anyway). It walks the index of unfinished jobs (`<prefix>:jobs:active`, kept by the
// store's Lua scripts: no SCAN) and compares each record with its BullMQ entry:
// - entry failed (stalled too often, lock lost, attempts used up) and the record was not updated
//   → `failed` with `worker_lost` (or `canceled` when a cancel was requested);
// - no entry (the API died between writing the record and queue.add, or the entry was removed), or
//   a completed entry under an unfinished record → queued again, at most `maxRecoveries` times,
//   then `failed` with `worker_lost`;
// - waiting, delayed or active → nothing to do (BullMQ's stalled check owns dead workers' jobs).
// Jobs left waiting in the single `generate` queue of earlier versions move to their model's queue.
// It also deletes jobs whose RESULT_TTL ran out: record, webhook attempts and every object under
// `<storage prefix>/<job id>/` (inputs and outputs).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { isTerminal, reconcilerLockKey, type GenerateQueue, type JobStore } from '@sdsvc/jobs';
import type { Logger } from '@sdsvc/logging';
import type { ObjectStore } from '@sdsvc/storage';
import { lostError } from './job-errors.ts';

export interface ReconcilerDeps {
  redis: Redis;
  store: JobStore;
  queue: GenerateQueue;
  objects: ObjectStore;
  logger: Logger;
  /** Recoveries of a job with no queue entry before it fails (JOB_ATTEMPTS). */
  maxRecoveries: number;
  /** Only records unchanged for this long are checked (the API writes the record, then queues it). */
  minAgeMs?: number;
}

export interface ReconcileReport { checked: number; requeued: number; failed: number; canceled: number; deleted: number }

const jobFolder = (objects: ObjectStore, id: string): string => (objects.keyPrefix ? `${objects.keyPrefix}/${id}` : id);

/** One pass over the unfinished jobs and the expired ones. */
export async function reconcileOnce(deps: ReconcilerDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { checked: 0, requeued: 0, failed: 0, canceled: 0, deleted: 0 };
  // Jobs queued by an earlier version in the single `generate` queue move to their model's queue.
  const migrated = await deps.queue.migrateLegacy().catch((err: unknown) => { deps.logger.warn({ err }, 'moving jobs out of the old generate queue failed'); return 0; });
  if (migrated > 0) deps.logger.info({ jobs: migrated }, 'reconciler: jobs moved from the old generate queue to their model queues');
  for (const id of await deps.store.staleActiveIds(deps.minAgeMs ?? 30_000)) {
    report.checked++;
    await reconcileJob(deps, id, report).catch((err: unknown) => deps.logger.warn({ err, job_id: id }, 'reconciling a job failed'));
  }
  for (const id of await deps.store.expiredIds()) {
    await deleteExpired(deps, id).then(() => { report.deleted++; })
      .catch((err: unknown) => deps.logger.warn({ err, job_id: id }, 'deleting an expired job failed'));
  }
  return report;
}

async function reconcileJob(deps: ReconcilerDeps, id: string, report: ReconcileReport): Promise<void> {
  const { store, queue, logger } = deps;
  const rec = await store.get(id);
  if (!rec || isTerminal(rec.status)) {
    await store.forgetActive(id);
    return;
  }
  const entry = await queue.inspect(id, rec.model);
  const count = (status: string | null) => {
    if (status === 'canceled') report.canceled++;
    else if (status === 'failed') report.failed++;
    else if (status === 'queued') report.requeued++;
  };
  if (entry.state === 'failed') {
    const status = await store.finishLost(id, lostError(entry.failedReason));
    count(status);
    if (status) logger.warn({ job_id: id, status, reason: entry.failedReason }, 'reconciler: queue entry failed without the record; job finished');
    return;
  }
  if (entry.state !== 'gone' && entry.state !== 'completed') return;
  const recoveries = rec.recoveries + 1;
  if (recoveries > deps.maxRecoveries) {
    const status = await store.finishLost(id, { code: 'worker_lost', message: `the job lost its queue entry ${rec.recoveries} times` });
    count(status);
    return;
  }
  const status = await store.recoverQueued(id, recoveries);
  count(status);
  if (status !== 'queued') return;
  await queue.removeFinished(id, rec.model);
  await queue.add(id, { jobId: id, model: rec.model });
  logger.warn({ job_id: id, was: rec.status, queue_entry: entry.state, recoveries }, 'reconciler: job had no live queue entry; queued again');
}

async function deleteExpired(deps: ReconcilerDeps, id: string): Promise<void> {
  const rec = await deps.store.get(id);
  if (rec && !isTerminal(rec.status)) await deps.queue.remove(id, rec.model).catch(() => false);
  const keys = new Set(await deps.objects.list(jobFolder(deps.objects, id)));
  // Known keys too, in case the store lists nothing for a key outside the folder convention.
  for (const img of rec?.result?.images ?? []) if (img.key !== null) keys.add(img.key);
  if (rec?.result?.animation) keys.add(rec.result.animation.key);
  for (const ref of Object.values(rec?.params.inputs ?? {})) if (ref?.key) keys.add(ref.key);
  for (const key of keys) await deps.objects.delete(key);
  await deps.store.deleteJob(id);
  deps.logger.info({ job_id: id, objects: keys.size }, 'expired job deleted (RESULT_TTL)');
}

export interface RunningReconciler {
  /** A pass now (tests, start-up), whether or not this process holds the lease. */
  runNow(): Promise<ReconcileReport>;
  close(): Promise<void>;
}

/** Runs a pass every `intervalMs` in the process that holds the lease. */
export function startReconciler(deps: ReconcilerDeps & { prefix: string; intervalMs: number }): RunningReconciler {
  const me = randomUUID();
  const lease = reconcilerLockKey(deps.prefix);
  let current: Promise<ReconcileReport> | null = null;
  const run = (): Promise<ReconcileReport> => {
    current ??= reconcileOnce(deps).finally(() => { current = null; });
    return current;
  };
  const tick = async () => {
    // SET NX PX: one holder per period; the holder renews it while it keeps running passes.
    const got = await deps.redis.set(lease, me, 'PX', deps.intervalMs * 2, 'NX');
    const mine = got === 'OK' || (await deps.redis.get(lease)) === me;
    if (!mine) return;
    await deps.redis.pexpire(lease, deps.intervalMs * 2);
    const report = await run();
    if (report.requeued + report.failed + report.canceled + report.deleted > 0) deps.logger.info(report, 'reconciler pass');
  };
  const timer = setInterval(() => { void tick().catch((err: unknown) => deps.logger.warn({ err }, 'reconciler pass failed')); }, deps.intervalMs);
  timer.unref();
  return {
    runNow: run,
    async close() {
      clearInterval(timer);
      await current?.catch(() => {});
    },
  };
}
