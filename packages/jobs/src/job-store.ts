// The job record in Redis: the API's source of truth. BullMQ only schedules the work.
// Every change goes through one Lua script (scripts.ts) that also keeps the index of unfinished
// jobs, the deletion schedule and the webhook outbox, so a crash can never split them.
import type { Redis } from 'ioredis';
import type { JobError, JobEventType, JobParams, WebhookAttempt } from '@sdsvc/contracts';
import { activeJobsKey, cancelChannel, DEFAULT_PREFIX, expiringJobsKey, jobKeys, jobPreviewKey, modelQueuedJobsKey, outboxKey, queuedJobsKey } from './keys.ts';
import { fromHash, RECORD_FIELDS, toHash, type JobRecord, type JobResult, type NewJobRecord, type ParsedFields, type StoredWebhook } from './record.ts';
import { jobCommands, type JobCommands } from './scripts.ts';
import { rememberParamsJson, rememberStoredParamsJson } from './resource.ts';
import { ChannelSubscriber } from './channel-subscriber.ts';
import { TurnBatches } from './turn-batches.ts';

export type CancelOutcome = 'canceled' | 'cancel_requested' | 'finished' | 'not_found';

/** An event as published on `<prefix>:job-events:<id>`: the record right after the change. */
export interface JobEvent { type: JobEventType; seq: number; record: JobRecord }

/**
 * A live preview as published on the job's event channel (next to the record events, without a
 * seq: previews are ephemeral) and kept as the job's latest preview for PREVIEW_TTL_SECONDS.
 */
export interface JobPreview { type: 'preview'; step: number; total: number; width: number; height: number; /** data: URL */ image: string }
/** How long the latest preview of a job stays readable (late SSE clients, A1111 /progress). */
export const PREVIEW_TTL_SECONDS = 120;

/** What a fenced progress write learned: whether this attempt still owns the job, and the cancel flag. */
export interface ProgressAck { current: boolean; cancelRequested: boolean }

export interface JobStoreOptions {
  prefix?: string;
  /** Seconds a job lives after its last change (RESULT_TTL, default 7 days): then the reconciler
   *  deletes it with its objects. Redis expires the record itself an hour later as a backstop. */
  ttlSeconds?: number;
  /** Webhook attempts kept per job (default 50). */
  maxWebhookAttempts?: number;
  /** get() parses a job's params once and returns that object, deep-frozen, on every later read of
   *  the job (params never change); it and create() remember the params' stored JSON
   *  (jobResourceJson embeds it). For callers that never modify params (the API).
   *  Default false: each read parses its own. */
  shareParams?: boolean;
}

let nowMs = -1;
let nowIso = '';
/** The time as an ISO string; made once per millisecond (a burst of submissions shares it). */
const now = (): string => {
  const ms = Date.now();
  if (ms !== nowMs) {
    nowMs = ms;
    nowIso = new Date(ms).toISOString();
  }
  return nowIso;
};
/** Redis keeps a record this long past its deletion time, so the sweeper can still read its keys. */
const EXPIRY_GRACE_SECONDS = 3600;
const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);
/** Jobs whose parsed params get() keeps with shareParams (~1-2 KB each). Oldest entries go first. */
const SHARED_PARAMS_MAX = 10_000;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export const isTerminal = (status: string): boolean => TERMINAL.has(status);

interface TransitionOptions {
  /** Fencing: the change applies only while this attempt owns the job ('' = any). */
  attemptId?: string;
  /** A requested cancel turns the change into `canceled` (start, hand-back, recovery). */
  cancelWins?: boolean;
}
interface TransitionReply { applied: 0 | 1 | 2; status: string; cancelRequested: boolean }

export class JobStore {
  readonly prefix: string;
  readonly #redis: Redis;
  readonly #commands: JobCommands;
  readonly #ttl: number;
  readonly #maxAttempts: number;
  /** Job events and cancel requests: one subscriber connection for every channel. */
  readonly #channels: ChannelSubscriber;
  /** This turn's Redis work: corked together, new jobs created by one script call, reads by another. */
  readonly #turns: TurnBatches;
  /** shareParams: each job's params as stored and parsed (params never change once a job exists). */
  readonly #sharedParams = new Map<string, { raw: string; value: JobParams }>();
  readonly #shareParams: boolean;

  constructor(redis: Redis, opts: JobStoreOptions = {}) {
    this.#redis = redis;
    this.#channels = new ChannelSubscriber(redis);
    this.#commands = jobCommands(redis);
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.#ttl = opts.ttlSeconds ?? 7 * 24 * 3600;
    this.#maxAttempts = opts.maxWebhookAttempts ?? 50;
    this.#shareParams = opts.shareParams ?? false;
    this.#turns = new TurnBatches(redis, {
      createMany: this.#commands.createMany, readMany: this.#commands.readMany,
      createKeys: [activeJobsKey(this.prefix), expiringJobsKey(this.prefix), queuedJobsKey(this.prefix)],
      queuedBase: queuedJobsKey(this.prefix), readFields: RECORD_FIELDS, timing: () => this.#timing(),
    });
  }

  /** RESULT_TTL in seconds. */
  get ttlSeconds(): number {
    return this.#ttl;
  }

  /**
   * Records a new job (status queued) and returns the record as written, with its queue position,
   * so the caller does not read back what it just wrote. The creates of one event-loop turn go to
   * Redis as one script call (TurnBatches).
   */
  async create(rec: NewJobRecord): Promise<JobRecord> {
    return (await this.#create(rec)).record;
  }

  /**
   * Creates the record and queues it with `enqueue` in one round trip: `enqueue` is called right
   * after the create is sent, without waiting for its reply. Only for an `enqueue` that writes on
   * this store's connection (`connection`), so Redis runs the two in order. The first create on
   * each connection (and after every reconnect: maybe a restarted Redis without our scripts) waits
   * for its reply first, so an EVALSHA → NOSCRIPT → EVAL retry can never land after the queue entry.
   * Throws when the create failed (a queue entry without a record is dropped by the worker); an
   * `enqueue` failure comes back as `enqueueError` with the record written.
   */
  async createAndEnqueue(rec: NewJobRecord, enqueue: () => Promise<void>): Promise<{ record: JobRecord; enqueueError?: unknown }> {
    return await this.#create(rec, enqueue);
  }

  async #create(rec: NewJobRecord, enqueue?: () => Promise<void>): Promise<{ record: JobRecord; enqueueError?: unknown }> {
    const hash = toHash(rec, now());
    if (this.#shareParams) rememberStoredParamsJson(rec.params, hash.params!); // the API's store: the answer embeds the stored JSON
    const fields: string[] = [];
    for (const k in hash) fields.push(k, hash[k]!);
    const { position, enqueueError } = await this.#turns.create({ key: jobKeys(this.prefix, rec.id).record, id: rec.id, model: rec.model, fields, enqueue });
    hash.seq = '1';
    // The caller's objects, not a JSON round trip of them (toHash stored them as JSON of these very
    // objects; the record serialises the same). Null where toHash stored ''.
    const record = fromHash(hash, [], { params: rec.params, metadata: rec.metadata || null, webhook: rec.webhook || null });
    record.queue_position = position;
    return enqueueError === undefined ? { record } : { record, enqueueError };
  }

  /** The command connection (what createAndEnqueue's `enqueue` must write on to be pipelined). */
  get connection(): Redis {
    return this.#redis;
  }

  /**
   * The record with its queue position (`queue_position`, null unless queued), read at one instant.
   * The jobs read in one turn of the event loop (every request handled in it: clients polling) are
   * read by one script call (TurnBatches).
   */
  async get(id: string): Promise<JobRecord | null> {
    const [values, rank, attempts] = await this.#turns.read(jobKeys(this.prefix, id).record, id);
    const hash: Record<string, string> = {};
    for (let i = 0; i < RECORD_FIELDS.length; i++) if (values[i] != null) hash[RECORD_FIELDS[i]!] = values[i]!;
    if (!hash.status) return null;
    const rec = fromHash(hash, attempts.map((a) => JSON.parse(a) as WebhookAttempt), this.#parsedFields(id, hash));
    rec.queue_position = rec.status === 'queued' && rank >= 0 ? Number(rank) : null;
    return rec;
  }

  /** With shareParams: the job's params parsed once (deep-frozen), and its other JSON fields. */
  #parsedFields(id: string, hash: Record<string, string>): ParsedFields | undefined {
    if (!this.#shareParams) return undefined;
    let params = this.#sharedParams.get(id);
    if (params?.raw !== hash.params) {
      if (!params && this.#sharedParams.size >= SHARED_PARAMS_MAX) this.#sharedParams.delete(this.#sharedParams.keys().next().value!);
      params = { raw: hash.params!, value: deepFreeze(JSON.parse(hash.params!) as JobParams) };
      rememberParamsJson(params.value, params.raw);
      this.#sharedParams.set(id, params);
    }
    return {
      params: params.value,
      metadata: hash.metadata ? JSON.parse(hash.metadata) as Record<string, unknown> : null,
      webhook: hash.webhook ? JSON.parse(hash.webhook) as StoredWebhook : null,
    };
  }

  /** Jobs of the same model queued ahead of this one (0 = next), in the order workers take them;
   *  null unless queued. O(log n). */
  async queuePosition(id: string): Promise<number | null> {
    const model = await this.#redis.hget(jobKeys(this.prefix, id).record, 'model');
    if (model === null) return null;
    const rank = await this.#redis.zrank(modelQueuedJobsKey(this.prefix, model), id);
    return rank === null ? null : Number(rank);
  }

  /**
   * queued (or running, after a lost worker) → running, owned by `attemptId` from now on: writes
   * of any earlier attempt are refused. False when it did not start; a requested cancel ends the
   * job `canceled` right here.
   */
  async markRunning(id: string, { total, attempt, attemptId = '' }: { total: number; attempt: number; attemptId?: string }): Promise<boolean> {
    const r = await this.#transition(id, ['queued', 'running'], 'started', { cancelWins: true }, {
      status: 'running', started_at: now(), progress_step: '0', progress_total: String(total), attempts: String(attempt), attempt_id: attemptId,
    });
    return r.applied === 1;
  }

  /** Progress of the current attempt; tells the worker whether it still owns the job and whether a
   *  cancel was requested (so a lost cancel message still stops the job at the next step). */
  async setProgress(id: string, step: number, total: number, attemptId = '', frame?: { index: number; count: number }): Promise<ProgressAck> {
    const fields: Record<string, string> = { progress_step: String(step), progress_total: String(total) };
    if (frame) Object.assign(fields, { progress_frame: String(frame.index), progress_frames: String(frame.count) });
    const r = await this.#transition(id, ['running'], 'progress', { attemptId }, fields);
    return { current: r.applied === 1, cancelRequested: r.cancelRequested };
  }

  /** True when the record is running under `attemptId` (fencing check before side effects). */
  async ownsAttempt(id: string, attemptId: string): Promise<ProgressAck> {
    const [status, owner, cancel] = await this.#redis.hmget(jobKeys(this.prefix, id).record, 'status', 'attempt_id', 'cancel_requested');
    return { current: status === 'running' && owner === attemptId, cancelRequested: cancel === '1' };
  }

  async markSucceeded(id: string, result: JobResult, attemptId = ''): Promise<boolean> {
    const r = await this.#transition(id, ['running'], 'succeeded', { attemptId }, {
      status: 'succeeded', finished_at: now(), result: JSON.stringify(result),
    });
    return r.applied === 1;
  }

  async markFailed(id: string, error: JobError, attemptId = ''): Promise<boolean> {
    const r = await this.#transition(id, ['queued', 'running'], 'failed', { attemptId }, {
      status: 'failed', finished_at: now(), error: JSON.stringify({ code: error.code, message: error.message }),
    });
    return r.applied === 1;
  }

  async markCanceled(id: string, attemptId = ''): Promise<boolean> {
    const r = await this.#transition(id, ['queued', 'running'], 'canceled', { attemptId }, { status: 'canceled', finished_at: now() });
    return r.applied === 1;
  }

  /**
   * Hand a running job back (worker shutdown, retry after a storage error): BullMQ runs it again
   * and progress starts over. A requested cancel wins: the job ends `canceled` instead. Returns the
   * status after the call ('queued', 'canceled', or why it was refused: another status, 'superseded'
   * or '' when the record is gone).
   */
  async requeue(id: string, attemptId = '', opts: { readyAtMs?: number } = {}): Promise<string> {
    // readyAtMs: when a retry's backoff ends (its queue position counts from then).
    const r = await this.#transition(id, ['running'], 'queued', { attemptId, cancelWins: true },
      { status: 'queued', progress_step: '0', queue_ready_ms: opts.readyAtMs ? String(opts.readyAtMs) : '' });
    return r.status;
  }

  /**
   * Recovery of a job whose run was lost (reconciler, BullMQ failed it without our processor):
   * any unfinished status → `failed` with `error`, or `canceled` when a cancel was requested.
   * Returns the status after the call, or null when the job was already finished or is gone.
   */
  async finishLost(id: string, error: JobError): Promise<string | null> {
    const r = await this.#transition(id, ['queued', 'running'], 'failed', { cancelWins: true }, {
      status: 'failed', finished_at: now(), error: JSON.stringify({ code: error.code, message: error.message }),
    });
    return r.applied === 0 ? null : r.status;
  }

  /** Recovery of a job with no queue entry: back to queued (the caller queues it again). A
   *  requested cancel wins. Returns the status after the call, or null when it was not changed. */
  async recoverQueued(id: string, recoveries: number): Promise<string | null> {
    const r = await this.#transition(id, ['queued', 'running'], 'queued', { cancelWins: true }, {
      status: 'queued', progress_step: '0', recoveries: String(recoveries), queue_ready_ms: '',
    });
    return r.applied === 0 ? null : r.status;
  }

  async requestCancel(id: string): Promise<CancelOutcome> {
    return (await this.#commands.requestCancel(...this.#keys(id), ...this.#timing(), now(), cancelChannel(this.prefix), id)) as CancelOutcome;
  }

  async isCancelRequested(id: string): Promise<boolean> {
    return (await this.#redis.hget(jobKeys(this.prefix, id).record, 'cancel_requested')) === '1';
  }

  async addWebhookAttempt(id: string, attempt: WebhookAttempt): Promise<void> {
    const k = jobKeys(this.prefix, id).webhookAttempts;
    await this.#redis.multi().rpush(k, JSON.stringify(attempt)).ltrim(k, -this.#maxAttempts, -1)
      .expire(k, this.#ttl + EXPIRY_GRACE_SECONDS).exec();
  }

  /** Ids of unfinished jobs whose last change is older than `olderThanMs` (oldest first). */
  async staleActiveIds(olderThanMs: number, limit = 500): Promise<string[]> {
    return await this.#redis.zrangebyscore(activeJobsKey(this.prefix), '-inf', Date.now() - olderThanMs, 'LIMIT', 0, limit);
  }

  /** Ids of jobs due for deletion (RESULT_TTL after their last change). */
  async expiredIds(limit = 100): Promise<string[]> {
    return await this.#redis.zrangebyscore(expiringJobsKey(this.prefix), '-inf', Date.now(), 'LIMIT', 0, limit);
  }

  /** Deletes a job's record and index entries (its objects are the caller's). */
  async deleteJob(id: string): Promise<void> {
    const k = jobKeys(this.prefix, id);
    const model = await this.#redis.hget(k.record, 'model');
    const tx = this.#redis.multi().del(k.record, k.webhookAttempts, jobPreviewKey(this.prefix, id))
      .zrem(activeJobsKey(this.prefix), id).zrem(expiringJobsKey(this.prefix), id);
    if (model !== null) tx.zrem(modelQueuedJobsKey(this.prefix, model), id);
    await tx.exec();
  }

  /** Drops an id from the unfinished index (its record is gone or finished). */
  async forgetActive(id: string): Promise<void> {
    await this.#redis.zrem(activeJobsKey(this.prefix), id);
  }

  /** Publishes a live preview of a running job (not written to the record) and keeps it as the latest. */
  async publishPreview(id: string, preview: JobPreview): Promise<void> {
    const msg = JSON.stringify(preview);
    await this.#redis.multi().set(jobPreviewKey(this.prefix, id), msg, 'EX', PREVIEW_TTL_SECONDS).publish(jobKeys(this.prefix, id).events, msg).exec();
  }

  /** The job's latest live preview, if one was published within PREVIEW_TTL_SECONDS. */
  async latestPreview(id: string): Promise<JobPreview | null> {
    const raw = await this.#redis.get(jobPreviewKey(this.prefix, id));
    return raw ? JSON.parse(raw) as JobPreview : null;
  }

  /**
   * Events of one job, in `seq` order (duplicates and stragglers are dropped); live previews go to
   * `onPreview` (dropped without one). Returns unsubscribe.
   */
  async subscribe(id: string, onEvent: (event: JobEvent) => void, onPreview?: (preview: JobPreview) => void): Promise<() => Promise<void>> {
    let last = 0;
    return await this.#channels.listen(jobKeys(this.prefix, id).events, (msg) => {
      const raw = JSON.parse(msg) as { type: JobEventType | 'preview'; seq: number; record: Record<string, string> };
      if (raw.type === 'preview') { onPreview?.(raw as unknown as JobPreview); return; }
      if (raw.seq <= last) return;
      last = raw.seq;
      onEvent({ type: raw.type, seq: raw.seq, record: fromHash(raw.record) });
    });
  }

  /** Cancel requests for running jobs (the worker aborts the engine between two steps). */
  async onCancelRequested(handler: (jobId: string) => void): Promise<() => Promise<void>> {
    return await this.#channels.listen(cancelChannel(this.prefix), handler);
  }

  /** Called each time the subscriber connection is back after a drop (messages published while it
   *  was away are lost: listeners re-read the records they follow). Returns a remover. */
  onResubscribed(listener: () => void): () => void {
    return this.#channels.onResubscribed(listener);
  }

  /** Closes the shared subscriber connection (the main connection belongs to the caller). */
  async close(): Promise<void> {
    this.#sharedParams.clear();
    await this.#channels.close();
  }

  #keys(id: string): string[] {
    const k = jobKeys(this.prefix, id);
    return [k.record, k.events, activeJobsKey(this.prefix), expiringJobsKey(this.prefix), outboxKey(this.prefix), queuedJobsKey(this.prefix)];
  }

  /** ttl (record EXPIRE, s), expire_at (deletion due, ms), now (ms). */
  #timing(): number[] {
    const nowMs = Date.now();
    return [this.#ttl + EXPIRY_GRACE_SECONDS, nowMs + this.#ttl * 1000, nowMs];
  }

  async #transition(id: string, from: string[], event: JobEventType, opts: TransitionOptions, fields: Record<string, string>): Promise<TransitionReply> {
    const [applied, status, cancel] = (await this.#commands.transition(...this.#keys(id), ...this.#timing(), now(), from.join(','), event,
      opts.attemptId ?? '', opts.cancelWins ? 'cancelwins' : '', ...Object.entries(fields).flat())) as [0 | 1 | 2, string, number];
    return { applied, status, cancelRequested: cancel === 1 };
  }
}
