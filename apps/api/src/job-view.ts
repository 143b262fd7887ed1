// Record → public resource, with fresh image URLs and the live queue position; Prefer: wait.
import { TERMINAL_STATUSES, type JobResource } from '@sdsvc/contracts';
import { buildJobResource, jobResourceJson, type JobRecord, type JobStore } from '@sdsvc/jobs';
import type { FastifyReply } from 'fastify';
import type { AppDeps } from './deps.ts';

export type JobView = (rec: JobRecord) => Promise<JobResource>;

/** Answers with the job resource as JSON (jobResourceJson: the stored params string, not a second
 *  serialisation of them). For the routes clients poll. */
export async function sendJob(reply: FastifyReply, view: JobView, rec: JobRecord): Promise<string> {
  const json = jobResourceJson(await view(rec));
  reply.type('application/json; charset=utf-8');
  return json;
}

export function makeJobView(deps: Pick<AppDeps, 'objectStore' | 'store'>): JobView {
  return async (rec) => buildJobResource(rec, {
    urlFor: (key) => deps.objectStore.url(key),
    // JobStore.get/create bring the position (ZRANK, same round trip); never an LPOS here.
    queuePosition: rec.status === 'queued' ? (rec.queue_position ?? await deps.store.queuePosition(rec.id)) : null,
  });
}

/** How often a waiting request re-reads the record (pub/sub messages can be lost). */
export const DEFAULT_WAIT_POLL_MS = 5000;

interface WaitSettings { pollMs: number; wakers: Set<() => void>; released: boolean }
// Per store, so routes keep calling waitUntilFinished(store, id, ms) while the app that owns the
// store decides the poll interval and releases every wait when it closes.
const settings = new WeakMap<JobStore, WaitSettings>();
function settingsOf(store: JobStore): WaitSettings {
  let s = settings.get(store);
  if (!s) {
    s = { pollMs: DEFAULT_WAIT_POLL_MS, wakers: new Set(), released: false };
    settings.set(store, s);
  }
  return s;
}

/** The poll interval of waits on this store (the SSE heartbeat). */
export function setWaitPollMs(store: JobStore, ms: number): void {
  settingsOf(store).pollMs = ms;
}

/** Ends every pending wait on this store now, and every later one at once (the API is closing):
 *  those requests answer with the job as it stands. */
export function releaseWaits(store: JobStore): void {
  const s = settingsOf(store);
  s.released = true;
  for (const wake of s.wakers) wake();
}

/**
 * Resolves when the job is finished, `ms` passed, or the app closes (Prefer: wait); never rejects.
 * Follows the job's events and also re-reads the record every poll interval, so a lost message
 * (subscriber reconnect) cannot make it wait for nothing. When Redis cannot be reached at the start
 * it returns at once (the caller's read answers 503).
 */
export async function waitUntilFinished(store: JobStore, id: string, ms: number): Promise<void> {
  const s = settingsOf(store);
  if (s.released) return;
  let wake!: () => void;
  const woken = new Promise<void>((resolve) => { wake = resolve; });
  const finished = (rec: JobRecord | null) => !rec || TERMINAL_STATUSES.includes(rec.status);
  s.wakers.add(wake);
  const timer = setTimeout(wake, ms);
  let unsubscribe: (() => Promise<void>) | undefined;
  let poll: NodeJS.Timeout | undefined;
  try {
    unsubscribe = await store.subscribe(id, (e) => { if (finished(e.record)) wake(); });
    poll = setInterval(() => {
      // A failed read (Redis away for a moment) keeps waiting: the job was accepted, and the
      // answer at the end of the wait is the job, or 503 if Redis is still unreachable.
      store.get(id).then((rec) => { if (finished(rec)) wake(); }, () => {});
    }, s.pollMs);
    if (finished(await store.get(id))) return; // it may have finished before we subscribed
    await woken;
  } catch {
    // Redis unreachable: stop waiting; the caller's read reports it.
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
    s.wakers.delete(wake);
    await unsubscribe?.().catch(() => {});
  }
}
