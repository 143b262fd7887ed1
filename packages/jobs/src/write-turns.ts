// The writes of one event-loop turn on one connection. The requests that arrive together (one poll
// phase: every socket that had data) write together: the connection is corked until the turn's
// check phase, so their commands leave in one write, and their new jobs are created by one script
// call (CREATE_MANY), each followed by its queue entry in the order they came. A batch costs
// Redis and ioredis one call instead of one per job; it waits for nothing the cork did not
// already wait for (the end of the turn).
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

interface PendingJob extends NewJobWrite {
  resolve(created: CreatedJob): void;
  reject(err: unknown): void;
}

interface Turn { jobs: PendingJob[]; flushed: boolean }

/** Jobs per script call: a call blocks Redis while it runs (~10 µs per job). */
const MAX_BATCH = 100;

type CreateMany = (...args: Array<string | number>) => Promise<unknown>;

export class WriteTurns {
  readonly #redis: Redis;
  readonly #createMany: CreateMany;
  /** KEYS before the record keys, and the ARGV before the jobs (ttl, expire_at, now_ms). */
  readonly #sharedKeys: string[];
  readonly #timing: () => number[];
  #open: Turn | null = null;
  /** CREATE_MANY ran on this connection since it last (re)connected: until then a batch's queue
   *  entries wait for its create's reply, so an EVALSHA → NOSCRIPT → EVAL retry can never land
   *  after them (a queue entry without a record is dropped by the worker). */
  #scriptsLoaded = false;

  constructor(redis: Redis, createMany: CreateMany, sharedKeys: string[], timing: () => number[]) {
    this.#redis = redis;
    this.#createMany = createMany;
    this.#sharedKeys = sharedKeys;
    this.#timing = timing;
    redis.on('ready', () => { this.#scriptsLoaded = false; });
  }

  /** Corks the connection until the end of this turn (reads call it: their commands leave together). */
  cork(): void {
    this.#turn();
  }

  /** Creates the job with the others of this turn; resolves with its queue position once written. */
  create(job: NewJobWrite): Promise<CreatedJob> {
    return new Promise((resolve, reject) => { this.#turn().jobs.push({ ...job, resolve, reject }); });
  }

  #turn(): Turn {
    if (this.#open) return this.#open;
    const turn: Turn = { jobs: [], flushed: false };
    this.#open = turn;
    const socket = (this.#redis as unknown as { stream?: { cork?(): void; uncork?(): void } }).stream;
    const corked = typeof socket?.cork === 'function' && typeof socket.uncork === 'function';
    if (corked) socket.cork!();
    // Two immediates queued now run in this turn's check phase, in order, with the microtasks in
    // between: the queue adds the flush starts write their command before the uncork.
    setImmediate(() => this.#flush(turn));
    if (corked) setImmediate(() => socket.uncork!());
    return turn;
  }

  #flush(turn: Turn): void {
    turn.flushed = true;
    if (this.#open === turn) this.#open = null;
    for (let i = 0; i < turn.jobs.length; i += MAX_BATCH) this.#send(turn.jobs.slice(i, i + MAX_BATCH));
  }

  #send(jobs: PendingJob[]): void {
    const args: Array<string | number> = [this.#sharedKeys.length + jobs.length, ...this.#sharedKeys];
    for (const job of jobs) args.push(job.key);
    args.push(...this.#timing());
    for (const job of jobs) {
      args.push(job.id, job.model, job.fields.length);
      for (const f of job.fields) args.push(f);
    }
    const created = this.#createMany(...args) as Promise<number[]>;
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
}
