// The API's view of the worker registry: which models live workers hold, re-read in the background
// every `refreshMs` so a submission costs no Redis read. When the last reading says no worker holds
// a model, `confirmWorkersFor` reads again before the API refuses the job (a worker that has just
// started must not be refused for up to a second); those reads are shared and spaced.
import type { ModelAnnouncement, WorkerRegistration, WorkerRegistry } from '@sdsvc/jobs';

export interface WorkerDirectoryOptions {
  /** Background re-read interval (default 1000 ms). */
  refreshMs?: number;
  /** Registry read failures (Redis down): the last reading stays in use. */
  onError?: (err: unknown) => void;
}

interface Reading { workers: WorkerRegistration[]; known: ModelAnnouncement[]; at: number }

/** Re-reads on demand at most this often (a burst of jobs for a model nobody holds). */
const CONFIRM_SPACING_MS = 250;

export class WorkerDirectory {
  readonly #registry: WorkerRegistry;
  readonly #refreshMs: number;
  readonly #onError: (err: unknown) => void;
  #reading: Reading = { workers: [], known: [], at: 0 };
  #inflight: Promise<Reading> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #counts = new Map<string, number>();

  constructor(registry: WorkerRegistry, opts: WorkerDirectoryOptions = {}) {
    this.#registry = registry;
    this.#refreshMs = opts.refreshMs ?? 1000;
    this.#onError = opts.onError ?? (() => {});
  }

  /** Reads once now (bounded by the connection's fail-fast timeout), then every refreshMs. */
  async start(): Promise<void> {
    await this.refresh().catch(() => {});
    this.#timer ??= setInterval(() => { void this.refresh().catch(() => {}); }, this.#refreshMs);
    this.#timer.unref();
  }

  /** One registry read (shared by concurrent callers). */
  async refresh(): Promise<Reading> {
    const issued = Date.now(); // a reading is as old as the read that made it
    this.#inflight ??= this.#registry.read().then((r) => {
      this.#set({ ...r, at: issued });
      return this.#reading;
    }, (err: unknown) => {
      this.#onError(err);
      throw err;
    }).finally(() => { this.#inflight = null; });
    return await this.#inflight;
  }

  /** Live workers holding `model`, per the last reading. */
  workersFor(model: string): number {
    return this.#counts.get(model) ?? 0;
  }

  /** Live workers holding `model`; when the last reading says none, a fresh one decides. */
  async confirmWorkersFor(model: string): Promise<number> {
    if (this.workersFor(model) === 0) await this.reread();
    return this.workersFor(model);
  }

  /** Re-reads unless the last reading is fresh (a model nobody seemed to hold or announce). */
  async reread(): Promise<void> {
    if (Date.now() - this.#reading.at < CONFIRM_SPACING_MS) return;
    await this.refresh().catch(() => {});
  }

  /** Every model announced: by a live worker (its announcement) or ever (the last one known). */
  announced(): ModelAnnouncement[] {
    const byId = new Map<string, ModelAnnouncement>();
    for (const m of this.#reading.known) byId.set(m.id, m);
    for (const w of this.#reading.workers) for (const m of w.models) byId.set(m.id, m);
    return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The live workers, per the last reading. */
  get workers(): readonly WorkerRegistration[] {
    return this.#reading.workers;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #set(reading: Reading): void {
    const counts = new Map<string, number>();
    for (const w of reading.workers) for (const m of w.models) counts.set(m.id, (counts.get(m.id) ?? 0) + 1);
    this.#reading = reading;
    this.#counts = counts;
  }
}
