// Cancelling a job, whatever protocol asked: queued → canceled at once (queue entry removed,
// webhook sent here since no worker will see it); running → flagged for the worker, which stops
// between two denoising steps.
import { buildJobResource, type CancelOutcome, type JobRecord } from '@sdsvc/jobs';
import type { JobLog, SubmissionDeps } from './deps.ts';

export interface Canceled {
  outcome: Exclude<CancelOutcome, 'not_found'>;
  record: JobRecord;
}

/** null when the job does not exist (or expired). */
export async function cancelJob(deps: SubmissionDeps, id: string, log: JobLog = deps.logger): Promise<Canceled | null> {
  const outcome = await deps.store.requestCancel(id);
  if (outcome === 'not_found') return null;
  if (outcome === 'canceled') {
    const removed = await deps.queue.remove(id).catch(() => false);
    if (!removed) log.warn({ job_id: id }, 'queue entry locked; the worker will skip the canceled job');
  }
  const record = await deps.store.get(id);
  if (!record) return null;
  if (outcome === 'canceled' && record.webhook?.events.includes('job.canceled') && deps.webhooks) {
    const resource = await buildJobResource(record, { urlFor: (k) => deps.objectStore.url(k) });
    await deps.webhooks.notify(resource, 'job.canceled').catch((err: unknown) => log.error({ err, job_id: id }, 'could not enqueue webhook'));
  }
  log.info({ job_id: id, outcome }, 'cancel');
  return { outcome, record };
}
