// The job record in Redis: the API's source of truth. BullMQ only schedules the work.
import type { Redis } from 'ioredis';
import type { JobError, JobEventType, WebhookAttempt } from '@sdsvc/contracts';
import { cancelChannel, DEFAULT_PREFIX, jobKeys } from './keys.ts';
import { fromHash, toHash, type JobRecord, type JobResult, type NewJobRecord } from './record.ts';
import { CREATE, REQUEST_CANCEL, TRANSITION } from './scripts.ts';

export type CancelOutcome = 'canceled' | 'cancel_requested' | 'finished' | 'not_found';

/** An event as published on `<prefix>:job-events:<id>`: the record right after the change. */
export interface JobEvent { type: JobEventType; seq: number; record: JobRecord }

export interface JobStoreOptions {
  prefix?: string;
  /** Seconds a record lives after its last change (default 7 days). */
  ttlSeconds?: number;
  /** Webhook attempts kept per job (default 50). */
  maxWebhookAttempts?: number;
}

const now = (): string => new Date().toISOString();

export class JobStore {
  readonly prefix: string;
  readonly #redis: Redis;
  readonly #ttl: number;
  readonly #maxAttempts: number;
  #subscriber: Redis | null = null;
  readonly #handlers = new Map<string, Set<(msg: string) => void>>();
  readonly #subscribing = new Map<string, Promise<unknown>>();
  readonly #resubscribed = new Set<() => void>();

  constructor(redis: Redis, opts: JobStoreOptions = {}) {
    this.#redis = redis;
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.#ttl = opts.ttlSeconds ?? 7 * 24 * 3600;
    this.#maxAttempts = opts.maxWebhookAttempts ?? 50;
  }

  async create(rec: NewJobRecord): Promise<void> {
    const k = jobKeys(this.prefix, rec.id);
    const fields = Object.entries(toHash(rec, now())).flat();
    const ok = await this.#redis.eval(CREATE, 2, k.record, k.events, this.#ttl, ...fields);
    if (ok !== 1) throw new Error(`job ${rec.id} already exists`);
  }

  async get(id: string): Promise<JobRecord | null> {
    const k = jobKeys(this.prefix, id);
    const [[, hash], [, attempts]] = (await this.#redis.multi().hgetall(k.record).lrange(k.webhookAttempts, 0, -1).exec()) as
      [[unknown, Record<string, string>], [unknown, string[]]];
    if (!hash || !hash.status) return null;
    return fromHash(hash, attempts.map((a) => JSON.parse(a) as WebhookAttempt));
  }

  /** queued (or running again after a lost worker) → running; false when canceled or finished. */
  async markRunning(id: string, { total, attempt }: { total: number; attempt: number }): Promise<boolean> {
    return await this.#transition(id, ['queued', 'running'], 'started', 'nocancel', {
      status: 'running', started_at: now(), progress_step: '0', progress_total: String(total), attempts: String(attempt),
    });
  }

  async setProgress(id: string, step: number, total: number): Promise<void> {
    await this.#transition(id, ['running'], 'progress', '', { progress_step: String(step), progress_total: String(total) });
  }

  async markSucceeded(id: string, result: JobResult): Promise<boolean> {
    return await this.#transition(id, ['running'], 'succeeded', '', {
      status: 'succeeded', finished_at: now(), result: JSON.stringify(result),
    });
  }

  async markFailed(id: string, error: JobError): Promise<boolean> {
    return await this.#transition(id, ['queued', 'running'], 'failed', '', {
      status: 'failed', finished_at: now(), error: JSON.stringify({ code: error.code, message: error.message }),
    });
  }

  async markCanceled(id: string): Promise<boolean> {
    return await this.#transition(id, ['queued', 'running'], 'canceled', '', { status: 'canceled', finished_at: now() });
  }

  /** Worker shutdown: hand a running job back (BullMQ re-delivers it); progress starts over. */
  async requeue(id: string): Promise<boolean> {
    return await this.#transition(id, ['running'], 'queued', '', { status: 'queued', progress_step: '0' });
  }

  async requestCancel(id: string): Promise<CancelOutcome> {
    const k = jobKeys(this.prefix, id);
    return (await this.#redis.eval(REQUEST_CANCEL, 3, k.record, k.events, cancelChannel(this.prefix), id, now(), this.#ttl)) as CancelOutcome;
  }

  async isCancelRequested(id: string): Promise<boolean> {
    return (await this.#redis.hget(jobKeys(this.prefix, id).record, 'cancel_requested')) === '1';
  }

  async addWebhookAttempt(id: string, attempt: WebhookAttempt): Promise<void> {
    const k = jobKeys(this.prefix, id).webhookAttempts;
    await this.#redis.multi().rpush(k, JSON.stringify(attempt)).ltrim(k, -this.#maxAttempts, -1).expire(k, this.#ttl).exec();
  }

  /** Events of one job, in `seq` order (duplicates and stragglers are dropped). Returns unsubscribe. */
  async subscribe(id: string, onEvent: (event: JobEvent) => void): Promise<() => Promise<void>> {
    let last = 0;
    return await this.#listen(jobKeys(this.prefix, id).events, (msg) => {
      const raw = JSON.parse(msg) as { type: JobEventType; seq: number; record: Record<string, string> };
      if (raw.seq <= last) return;
      last = raw.seq;
      onEvent({ type: raw.type, seq: raw.seq, record: fromHash(raw.record) });
    });
  }

  /** Cancel requests for running jobs (the worker aborts the engine between two steps). */
  async onCancelRequested(handler: (jobId: string) => void): Promise<() => Promise<void>> {
    return await this.#listen(cancelChannel(this.prefix), handler);
  }

  /** Called each time the subscriber connection is back after a drop (messages published while it
   *  was away are lost: listeners re-read the records they follow). Returns a remover. */
  onResubscribed(listener: () => void): () => void {
    this.#resubscribed.add(listener);
    return () => { this.#resubscribed.delete(listener); };
  }

  /** Closes the shared subscriber connection (the main connection belongs to the caller). */
  async close(): Promise<void> {
    const sub = this.#subscriber;
    this.#subscriber = null;
    this.#handlers.clear();
    this.#subscribing.clear();
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }

  async #transition(id: string, from: string[], event: JobEventType, option: '' | 'nocancel', fields: Record<string, string>): Promise<boolean> {
    const k = jobKeys(this.prefix, id);
    const [applied] = (await this.#redis.eval(TRANSITION, 2, k.record, k.events, from.join(','), event, this.#ttl, option,
      ...Object.entries(fields).flat())) as [number, string];
    return applied === 1;
  }

  /** One subscriber connection per store, shared by every channel (SSE clients can be many). */
  async #listen(channel: string, handler: (msg: string) => void): Promise<() => Promise<void>> {
    if (!this.#subscriber) {
      // The command connection may fail fast (no offline queue); SUBSCRIBE has to wait for the
      // connection to open, and ioredis re-subscribes by itself after a drop.
      this.#subscriber = this.#redis.duplicate({ enableOfflineQueue: true });
      let wasReady = false;
      this.#subscriber.on('ready', () => {
        if (wasReady) for (const l of this.#resubscribed) { try { l(); } catch { /* listeners own their errors */ } }
        wasReady = true;
      });
      this.#subscriber.on('message', (ch: string, msg: string) => {
        for (const h of this.#handlers.get(ch) ?? []) {
          try { h(msg); } catch { /* one bad handler must not starve the others */ }
        }
      });
      this.#subscriber.on('error', () => { /* ioredis reconnects; errors surface on the command path */ });
    }
    const sub = this.#subscriber;
    let set = this.#handlers.get(channel);
    if (!set) {
      set = new Set();
      this.#handlers.set(channel, set);
      this.#subscribing.set(channel, sub.subscribe(channel));
    }
    set.add(handler);
    try {
      await this.#subscribing.get(channel); // a second caller waits for the same SUBSCRIBE
    } catch (err) {
      // Redis unreachable (command timeout): forget this channel so a later call subscribes anew.
      set.delete(handler);
      if (set.size === 0 && this.#handlers.get(channel) === set) {
        this.#handlers.delete(channel);
        this.#subscribing.delete(channel);
      }
      throw err;
    }
    return async () => {
      const s = this.#handlers.get(channel);
      if (!s || !s.delete(handler) || s.size > 0) return;
      this.#handlers.delete(channel);
      this.#subscribing.delete(channel);
      if (this.#subscriber === sub) await sub.unsubscribe(channel).catch(() => {});
    };
  }
}
