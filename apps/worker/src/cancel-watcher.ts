// Turns cancel requests into AbortSignals. JobStore.requestCancel sets the job's flag and
// publishes its id on `<prefix>:cancel`; this routes the message to the controller of the job
// running in this process (jobs running elsewhere are ignored).
import type { JobStore } from '@sdsvc/jobs';

export interface CancelWatcher {
  /** Controller aborted when the job's cancel arrives; the caller must `release` it. */
  watch(jobId: string): AbortController;
  release(jobId: string): void;
  /** Aborts every job running here with `reason` (shutdown). */
  abortAll(reason: Error): void;
  close(): Promise<void>;
}

/** The abort reason of a user cancel (distinct from a shutdown hand-back). */
export class CancelRequested extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} canceled`);
    this.name = 'CancelRequested';
  }
}

export async function startCancelWatcher(store: Pick<JobStore, 'onCancelRequested'>): Promise<CancelWatcher> {
  const running = new Map<string, AbortController>();
  const unsubscribe = await store.onCancelRequested((id) => {
    running.get(id)?.abort(new CancelRequested(id));
  });
  return {
    watch(jobId) {
      const ctrl = new AbortController();
      running.set(jobId, ctrl);
      return ctrl;
    },
    release(jobId) {
      running.delete(jobId);
    },
    abortAll(reason) {
      for (const ctrl of running.values()) ctrl.abort(reason);
    },
    async close() {
      running.clear();
      await unsubscribe();
    },
  };
}
