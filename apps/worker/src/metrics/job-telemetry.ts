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
  const observe = (id: string, fn: (rec: JobRecord) => void) => {
    void store.get(id).then((rec) => { if (rec) fn(rec); }).catch(onError);
  };
  // Every argument is passed through unchanged, whatever the store's signatures become.
  const markRunning = store.markRunning.bind(store);
  store.markRunning = async (...args: Parameters<JobStore['markRunning']>) => {
    const ok = await markRunning(...args);
    if (ok) observe(args[0], (rec) => observeStarted(metrics, rec, args[1].attempt));
    return ok;
  };
  const markSucceeded = store.markSucceeded.bind(store);
  store.markSucceeded = async (...args: Parameters<JobStore['markSucceeded']>) => {
    const ok = await markSucceeded(...args);
    if (ok) observe(args[0], (rec) => observeEnded(metrics, rec));
    return ok;
  };
  const markFailed = store.markFailed.bind(store);
  store.markFailed = async (...args: Parameters<JobStore['markFailed']>) => {
    const ok = await markFailed(...args);
    if (ok) observe(args[0], (rec) => observeEnded(metrics, rec));
    return ok;
  };
  const markCanceled = store.markCanceled.bind(store);
  store.markCanceled = async (...args: Parameters<JobStore['markCanceled']>) => {
    const ok = await markCanceled(...args);
    if (ok) observe(args[0], (rec) => observeEnded(metrics, rec));
    return ok;
  };
}
