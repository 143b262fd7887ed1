// The Redis work of one event-loop turn on one connection. The requests that arrive together (one
// poll phase: every socket that had data) go to Redis together: the connection is corked until the
// turn's check phase, so their commands leave in one write; their new jobs are created by one
// script call (CREATE_MANY), each followed by its queue entry in the order they came; the jobs they
// read are read by one script call (READ_MANY). A batch costs Redis and ioredis one call instead
// of one or two per job, and waits for nothing the cork did not already wait for. A turn that
// gathers a full batch (EARLY_BATCH new jobs) sends it at once, so Redis works while the rest of
// the turn is read.
import type { Redis } from 'ioredis';

/** A new job's record, as CREATE_MANY takes it. */
export interface NewJobWrite {
  /** The record's key. */
  key: string;
  id: string;
  model: string;
  /** The record's fields as pairs. */
  fields: string[];
  /** Adds the queue entry; must write on the same connection (it is sent right after the create). */
  enqueue?: () => Promise<void>;
}

/** position: the job's queue position. enqueueError: the create went through, its enqueue failed. */
export interface CreatedJob { position: number; enqueueError?: unknown }

/** One job as READ_MANY reads it: the fields' values (null where unset, in the order asked),
 *  its queue rank (-1 unless in its model's queued set) and its webhook attempts (JSON). */
export type JobRead = [values: Array<string | null>, rank: number, attempts: string[]];

type Call = (...args: Array<string | number>) => Promise<unknown>;

export interface TurnBatchesOptions {
  createMany: Call;
  readMany: Call;
  /** CREATE_MANY's KEYS before the record keys: active index, expiry index, base of the queued sets. */
  createKeys: string[];
  /** The base of the queued sets (READ_MANY). */
  queuedBase: string;
  /** The record fields a read returns. */
  readFields: readonly string[];
  /** CREATE_MANY's ARGV before the jobs: ttl, expire_at, now_ms. */
  timing: () => number[];
}

interface PendingCreate extends NewJobWrite { resolve(created: CreatedJob): void; reject(err: unknown): void }
interface PendingRead { key: string; id: string; waiters: Array<{ resolve(read: JobRead): void; reject(err: unknown): void }> }
interface Turn {
  creates: PendingCreate[];
  reads: Map<string, PendingRead>;
  /** Sent to Redis (at the end of the turn, or early). */
  sent: boolean;
  /** Uncorks the connection (once). */
  release(): void;
}

/** Jobs per script call: a call blocks Redis while it runs (~10 µs per job). */
const MAX_BATCH = 100;
/** A turn with this many new jobs sends them at once instead of at its end: Redis works on them
 *  while this process reads the turn's other requests. Measured (issue #11, 50 clients, 2 cores):
 *  the machine idled 10–12 % of the time instead of 17–21 %, +9 to +14 % submissions/s; 8 or 12
 *  gained no more, and smaller batches cost more writes than the overlap gains. */
const EARLY_BATCH = 16;

export class TurnBatches {
  readonly #redis: Redis;
  readonly #opts: TurnBatchesOptions;
  #open: Turn | null = null;
  /** CREATE_MANY ran on this connection since it last (re)connected: until then a batch's queue
   *  entries wait for its create's reply, so an EVALSHA → NOSCRIPT → EVAL retry can never land
   *  after them (a queue entry without a record is dropped by the worker). */
  #scriptsLoaded = false;

  constructor(redis: Redis, opts: TurnBatchesOptions) {
    this.#redis = redis;
    this.#opts = opts;
    redis.on('ready', () => { this.#scriptsLoaded = false; });
  }

  /** Creates the job with the others of this turn; resolves with its queue position once written. */
  create(job: NewJobWrite): Promise<CreatedJob> {
    return new Promise((resolve, reject) => {
      const turn = this.#turn();
      turn.creates.push({ ...job, resolve, reject });
      // Once this request's own microtasks are done (a tick queued from a microtask runs after them).
      if (turn.creates.length === EARLY_BATCH) process.nextTick(() => this.#sendEarly(turn));
    });
  }

  /** Reads the job with the others of this turn (the same job asked twice is read once). */
  read(key: string, id: string): Promise<JobRead> {
    return new Promise((resolve, reject) => {
      const reads = this.#turn().reads;
      const pending = reads.get(key);
      if (pending) pending.waiters.push({ resolve, reject });
      else reads.set(key, { key, id, waiters: [{ resolve, reject }] });
    });
  }

  #turn(): Turn {
    if (this.#open) return this.#open;
    const socket = (this.#redis as unknown as { stream?: { cork?(): void; uncork?(): void } }).stream;
    let corked = typeof socket?.cork === 'function' && typeof socket.uncork === 'function';
    if (corked) socket!.cork!();
    const turn: Turn = {
      creates: [], reads: new Map(), sent: false,
      release: () => { if (corked) { corked = false; socket!.uncork!(); } },
    };
    this.#open = turn;
    // Two immediates queued now run in this turn's check phase, in order, with the microtasks in
    // between: the queue adds the send starts write their command before the uncork.
    setImmediate(() => this.#send(turn));
    setImmediate(() => turn.release());
    return turn;
  }

  /** A full batch before the end of its turn: sent now; the uncork waits for the microtasks its
   *  queue adds write their commands in (a tick queued from a microtask runs after them all), so
   *  the batch still leaves in one write. Later requests of the turn open a new one. */
  #sendEarly(turn: Turn): void {
    if (turn.sent) return;
    this.#send(turn);
    queueMicrotask(() => process.nextTick(() => turn.release()));
  }

  #send(turn: Turn): void {
    if (turn.sent) return;
    turn.sent = true;
    if (this.#open === turn) this.#open = null;
    // Creates first: a read of a job created in the same turn finds it.
    for (let i = 0; i < turn.creates.length; i += MAX_BATCH) this.#sendCreates(turn.creates.slice(i, i + MAX_BATCH));
    const reads = [...turn.reads.values()];
    for (let i = 0; i < reads.length; i += MAX_BATCH) this.#sendReads(reads.slice(i, i + MAX_BATCH));
  }

  #sendCreates(jobs: PendingCreate[]): void {
    const { createKeys } = this.#opts;
    const args: Array<string | number> = [createKeys.length + jobs.length, ...createKeys];
    for (const job of jobs) args.push(job.key);
    args.push(...this.#opts.timing());
    for (const job of jobs) {
      args.push(job.id, job.model, job.fields.length);
      for (const f of job.fields) args.push(f);
    }
    const created = this.#opts.createMany(...args) as Promise<number[]>;
    // Pipelined: Redis runs the create before the adds (same connection, written in this order).
    const queued = this.#scriptsLoaded ? jobs.map((job) => job.enqueue?.()) : undefined;
    for (const q of queued ?? []) q?.catch(() => {}); // settled below; no unhandled rejection if the create fails
    created.then((positions) => {
      this.#scriptsLoaded = true;
      jobs.forEach((job, i) => {
        const position = Number(positions[i]);
        if (position < 0) return job.reject(new Error(`job ${job.id} already exists`));
        const q = queued ? queued[i] : job.enqueue?.();
        if (!q) return job.resolve({ position });
        q.then(() => job.resolve({ position }), (err: unknown) => job.resolve({ position, enqueueError: err }));
      });
    }, (err: unknown) => { for (const job of jobs) job.reject(err); });
  }

  #sendReads(reads: PendingRead[]): void {
    const { readFields, queuedBase } = this.#opts;
    const args: Array<string | number> = [reads.length];
    for (const r of reads) args.push(r.key);
    args.push(queuedBase, readFields.length, ...readFields);
    for (const r of reads) args.push(r.id);
    (this.#opts.readMany(...args) as Promise<JobRead[]>).then((rows) => {
      reads.forEach((r, i) => { for (const w of r.waiters) w.resolve(rows[i]!); });
    }, (err: unknown) => {
      for (const r of reads) for (const w of r.waiters) w.reject(err);
    });
  }
}
