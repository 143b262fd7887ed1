// Cancelling a job, whatever protocol asked: queued → canceled at once (queue entry removed);
// running → flagged for the worker, which stops between two denoising steps. A job whose queue
// entry is not held by a live worker (waiting for a retry, handed back, a dead worker's) is
// canceled here too. The job.canceled webhook is written to the outbox by the same Lua script as
// the status change and sent by the outbox drains (workers, and the API: `webhooks.notify` asks it).
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
  let record = await deps.store.get(id); // its model names the queue its entry is in
  if (!record) return null;
  if (outcome === 'canceled') {
    const removed = await deps.queue.remove(id, record.model).catch(() => false);
    if (!removed) log.warn({ job_id: id }, 'queue entry locked; the worker will skip the canceled job');
  } else if (outcome === 'cancel_requested') {
    // No worker holds the entry (BullMQ refuses to remove a locked job): nobody would see the flag
    // soon, so the job ends canceled now.
    if (await deps.queue.remove(id, record.model).catch(() => false)) {
      await deps.store.markCanceled(id);
      record = await deps.store.get(id);
      if (!record) return null;
    }
  }
  // The job.canceled webhook is in the outbox already: ask for a drain now.
  if (record.status === 'canceled' && deps.webhooks) {
    await deps.webhooks.notify(await buildJobResource(record, { urlFor: (k) => deps.objectStore.url(k) }), 'job.canceled')
      .catch((err: unknown) => log.warn({ err, job_id: id }, 'could not drain the webhook outbox'));
  }
  log.info({ job_id: id, outcome, status: record.status }, 'cancel');
  return { outcome, record };
}
