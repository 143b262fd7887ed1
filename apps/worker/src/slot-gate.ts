// One process, one engine, several per-model BullMQ Workers: they share the process's job slots
// (max(WORKER_CONCURRENCY, BATCH_MAX_JOBS)). While every slot is taken the Workers stop fetching
// (paused without waiting for their running jobs), so jobs stay in Redis for other workers; they
// resume when a slot frees. A job fetched anyway (a fetch already in flight when the pause came)
// waits here for a slot, its lock renewed by BullMQ like any running job's.
import type { Worker } from 'bullmq';

/** The gate is closed (worker shutting down): the job goes back to the queue unstarted. */
export class GateClosed extends Error {
  constructor() {
    super('worker shutting down');
    this.name = 'GateClosed';
  }
}

type Pausable = Pick<Worker, 'pause' | 'resume'>;

export class SlotGate {
  #free: number;
  readonly #waiters: Array<{ grant: () => void; refuse: (err: Error) => void }> = [];
  #workers: Pausable[] = [];
  #paused = false;
  #closed = false;

  constructor(capacity: number) {
    this.#free = capacity;
  }

  /** The Workers to pause while the slots are full (only useful with more than one). */
  attach(workers: Pausable[]): void {
    this.#workers = workers;
  }

  /** Takes a slot (waits for one); the returned function gives it back. Rejects with GateClosed once closed. */
  async acquire(): Promise<() => void> {
    if (this.#closed) throw new GateClosed();
    if (this.#free > 0) {
      this.#free--;
      if (this.#free === 0) this.#pause();
    } else {
      await new Promise<void>((grant, refuse) => { this.#waiters.push({ grant, refuse }); });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release();
    };
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Refuses the waiting jobs and every later one (shutdown: they go back to the queue at once). */
  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.refuse(new GateClosed());
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next) {
      next.grant(); // the slot passes straight on
      return;
    }
    this.#free++;
    if (this.#paused && !this.#closed) {
      this.#paused = false;
      for (const w of this.#workers) void Promise.resolve(w.resume()).catch(() => {});
    }
  }

  #pause(): void {
    if (this.#workers.length < 2 || this.#paused) return; // one Worker: its own concurrency limit does it
    this.#paused = true;
    for (const w of this.#workers) void Promise.resolve(w.pause(true)).catch(() => {});
  }
}
