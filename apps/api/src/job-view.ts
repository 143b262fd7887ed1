// Record → public resource, with fresh image URLs and the live queue position.
import { TERMINAL_STATUSES, type JobResource } from '@sdsvc/contracts';
import { buildJobResource, type JobRecord, type JobStore } from '@sdsvc/jobs';
import type { AppDeps } from './deps.ts';

export type JobView = (rec: JobRecord) => Promise<JobResource>;

export function makeJobView(deps: Pick<AppDeps, 'objectStore' | 'queue'>): JobView {
  return async (rec) => buildJobResource(rec, {
    urlFor: (key) => deps.objectStore.url(key),
    queuePosition: rec.status === 'queued' ? await deps.queue.position(rec.id) : null,
  });
}

/** Resolves when the job is finished or `ms` passed (Prefer: wait); never rejects on timeout. */
export async function waitUntilFinished(store: JobStore, id: string, ms: number): Promise<void> {
  let wake!: () => void;
  const woken = new Promise<void>((resolve) => { wake = resolve; });
  const unsubscribe = await store.subscribe(id, (e) => { if (TERMINAL_STATUSES.includes(e.record.status)) wake(); });
  const timer = setTimeout(wake, ms);
  try {
    const rec = await store.get(id); // it may have finished before we subscribed
    if (!rec || TERMINAL_STATUSES.includes(rec.status)) return;
    await woken;
  } finally {
    clearTimeout(timer);
    await unsubscribe();
  }
}
