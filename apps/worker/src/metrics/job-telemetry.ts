// Job metrics of this worker process, fed from its own JobStore's state transitions: the store is
// the job's state machine, so every job this process starts or ends passes through it, whatever
// the queue plumbing around it. The record's own timestamps give the wait and run times.
import type { JobRecord, JobStore } from '@sdsvc/jobs';
import type { WorkerMetrics } from '@sdsvc/metrics';

const seconds = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 1000;

/** Observes one record that just started (attempt 1: created → started is its queue wait). */
export function observeStarted(metrics: WorkerMetrics, rec: JobRecord, attempt: number): void {
  if (attempt !== 1 || !rec.started_at) return;
  metrics.jobWait.observe({ type: rec.type, model: rec.model }, Math.max(0, seconds(rec.created_at, rec.started_at)));
}

/** Observes one record that just ended (succeeded, failed or canceled). */
export function observeEnded(metrics: WorkerMetrics, rec: JobRecord): void {
  const labels = { type: rec.type, model: rec.model };
  if (rec.started_at && rec.finished_at) {
    metrics.jobRun.observe({ ...labels, outcome: rec.status }, Math.max(0, seconds(rec.started_at, rec.finished_at)));
  }
  if (rec.status === 'succeeded') metrics.imagesGenerated.inc(labels, rec.result?.images.length ?? 0);
  if (rec.status === 'failed') metrics.jobsFailed.inc({ code: rec.error?.code ?? 'internal_error' });
}

/**
 * Wraps the store's transitions in place (this process's store only). Metrics never fail a job:
 * reading the record afterwards is best effort.
 */
export function instrumentJobStore(store: JobStore, metrics: WorkerMetrics, onError: (err: unknown) => void = () => {}): void {
  const markRunning = store.markRunning.bind(store);
  store.markRunning = async (id, opts) => {
    const ok = await markRunning(id, opts);
    if (ok) void store.get(id).then((rec) => { if (rec) observeStarted(metrics, rec, opts.attempt); }).catch(onError);
    return ok;
  };
  const ended = (id: string) => void store.get(id).then((rec) => { if (rec) observeEnded(metrics, rec); }).catch(onError);
  const markSucceeded = store.markSucceeded.bind(store);
  store.markSucceeded = async (id, result, ...fence) => {
    const ok = await markSucceeded(id, result, ...fence);
    if (ok) ended(id);
    return ok;
  };
  const markFailed = store.markFailed.bind(store);
  store.markFailed = async (id, error, ...fence) => {
    const ok = await markFailed(id, error, ...fence);
    if (ok) ended(id);
    return ok;
  };
  const markCanceled = store.markCanceled.bind(store);
  store.markCanceled = async (id, ...fence) => {
    const ok = await markCanceled(id, ...fence);
    if (ok) ended(id);
    return ok;
  };
}
