/**
 * EngineHost: the main-thread handle on the engine thread. generate() forwards a job, relays
 * per-step progress, and cancels through a SharedArrayBuffer flag when the signal aborts.
 *
 * The thread is supervised: when it dies (uncaught error, out of memory, native crash reported as
 * an exit), the jobs in flight reject with EngineThreadDiedError (the caller retries them: the
 * input was not at fault), and a new thread is started after a backoff, with the models that were
 * preloaded loaded again. After `maxRestarts` deaths within `restartWindowMs` it gives up and calls
 * `onFatal` (the worker process exits non-zero so an orchestrator restarts it).
 */
import { Worker } from 'node:worker_threads';
import type { GenerateRequest, GenerateResult } from '../pipelines/types.ts';
import type { PreviewImage } from '../preview/step-previewer.ts';
import { abortError } from '../pipelines/abort.ts';
import type { BatchOutcome, EngineThreadOptions, FromEngine, SerializedError, ToEngine } from './messages.ts';
import { batchKey } from '../pipelines/batch-key.ts';
import { BatchCollector } from './batch-collector.ts';

export interface EngineSupervision {
  /** Thread deaths tolerated within restartWindowMs before onFatal (default 5). */
  maxRestarts?: number;
  restartWindowMs?: number;
  /** First restart delay, doubled per recent death, capped at 10 s (default 500 ms). */
  restartBackoffMs?: number;
  /** The thread cannot be kept alive; default: log only (the host stays dead). */
  onFatal?: (err: Error) => void;
}

export type EngineHostOptions = EngineThreadOptions & EngineSupervision & {
  log?: (message: string) => void;
  /** Node options of the engine thread (default: the process's). */
  execArgv?: string[];
  /** BATCH_MAX_JOBS: concurrent compatible generate calls run as one denoising batch (default 1 = off). */
  batchMaxJobs?: number;
  /** BATCH_WAIT_MS: how long a call waits for companions (default 0: only those already waiting). */
  batchWaitMs?: number;
};

export interface HostGenerateOptions {
  onStep?: (step: number, total: number) => void;
  signal?: AbortSignal;
  /** Live previews every `everySteps` steps (see GenerateOptions.preview); the image's buffer is the caller's. */
  preview?: { everySteps: number; onPreview: (preview: PreviewImage) => void };
}

interface Pending {
  resolve(r: GenerateResult): void;
  reject(e: Error): void;
  onStep?: (step: number, total: number) => void;
  /** Batches: progress of request `index`. */
  onIndexedStep?: (index: number, step: number, total: number) => void;
  resolveBatch?: (results: BatchOutcome[]) => void;
  onPreview?: (preview: PreviewImage) => void;
}

/** The engine thread died while this job was in flight: not the job's fault, run it again. */
export class EngineThreadDiedError extends Error {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts);
    this.name = 'EngineThreadDiedError';
  }
}

function revive(e: SerializedError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = `${e.name}: ${e.message}\n    at (engine thread)\n${e.stack.split('\n').slice(1).join('\n')}`;
  return err;
}

function spawnThread(threadOpts: EngineThreadOptions, execArgv?: string[]): Promise<Worker> {
  const worker = new Worker(new URL('./engine-thread.ts', import.meta.url), { workerData: threadOpts, ...(execArgv ? { execArgv } : {}) });
  return new Promise<Worker>((resolve, reject) => {
    worker.once('online', () => resolve(worker));
    worker.once('error', reject);
  });
}

export class EngineHost {
  private worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** Resolves when a thread is up (a restart in progress replaces it). */
  private up: Promise<void> = Promise.resolve();
  private alive = true;
  private readonly deaths: number[] = [];
  /** Models preloaded on request: loaded again on a new thread. */
  private readonly wanted = new Set<string>();
  /** Models whose preload succeeded on the current thread. */
  private readonly loaded = new Set<string>();
  /** The provider each loaded model's graphs run on (kept after a release: the same policy gives the same). */
  private readonly providers = new Map<string, Record<string, string>>();
  private readonly providerListeners = new Set<(modelId: string, providers: Record<string, string>) => void>();
  private readonly threadOpts: EngineThreadOptions;
  private readonly supervision: EngineSupervision;
  private readonly log: (m: string) => void;
  private readonly execArgv: string[] | undefined;

  private constructor(worker: Worker, threadOpts: EngineThreadOptions, supervision: EngineSupervision, log: (m: string) => void, execArgv?: string[]) {
    this.worker = worker;
    this.execArgv = execArgv;
    this.threadOpts = threadOpts;
    this.supervision = supervision;
    this.log = log;
    this.attach(worker);
  }

  static async start(opts: EngineHostOptions): Promise<EngineHost> {
    const { log = (m: string) => console.warn(m), maxRestarts, restartWindowMs, restartBackoffMs, onFatal, execArgv, batchMaxJobs, batchWaitMs, ...threadOpts } = opts;
    const worker = await spawnThread(threadOpts, execArgv);
    const host = new EngineHost(worker, threadOpts, { maxRestarts, restartWindowMs, restartBackoffMs, onFatal }, log, execArgv);
    if ((batchMaxJobs ?? 1) > 1) {
      host.batches = new BatchCollector(async (modelId, entries) => (host.reportBatch(modelId, entries.length), entries.length === 1
        ? [await host.generateOne(modelId, entries[0]!.request, entries[0]!.opts).then(
          (value) => ({ status: 'fulfilled' as const, value }), (reason: unknown) => ({ status: 'rejected' as const, reason }))]
        : await host.generateBatch(modelId, entries)), { maxJobs: batchMaxJobs!, waitMs: batchWaitMs ?? 0 });
    }
    return host;
  }

  /** Set when batching is on (BATCH_MAX_JOBS > 1): generate calls go through it. */
  batches: BatchCollector | null = null;

  /** True while a thread is running (false while it restarts, after close or after giving up). */
  isAlive(): boolean {
    return this.alive && !this.closed;
  }

  /** The execution provider each graph of `modelId` runs on (graph folder → provider), once it has loaded. */
  providersOf(modelId: string): Record<string, string> | undefined {
    return this.providers.get(modelId);
  }

  private readonly batchListeners = new Set<(modelId: string, jobs: number) => void>();

  /** With batching on: called for each engine call with the number of jobs it runs together. */
  onBatch(listener: (modelId: string, jobs: number) => void): void {
    this.batchListeners.add(listener);
  }

  private reportBatch(modelId: string, jobs: number): void {
    for (const l of this.batchListeners) { try { l(modelId, jobs); } catch { /* metrics never break a batch */ } }
  }

  /** Called each time a model's graphs are opened (a load, a reload after release or restart). */
  onProviders(listener: (modelId: string, providers: Record<string, string>) => void): void {
    this.providerListeners.add(listener);
  }

  /** True when `modelId` was preloaded successfully on the thread running now. */
  hasLoaded(modelId: string): boolean {
    return this.isAlive() && this.loaded.has(modelId);
  }

  private attach(worker: Worker): void {
    let dead = false;
    const died = (err: Error) => {
      if (dead || worker !== this.worker) return;
      dead = true;
      this.onDeath(err);
    };
    worker.on('message', (msg: FromEngine) => {
      if (msg.type === 'log') return this.log(msg.message);
      if (msg.type === 'providers') {
        this.providers.set(msg.modelId, msg.providers);
        for (const l of this.providerListeners) l(msg.modelId, msg.providers);
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.type === 'progress') return msg.index === undefined ? p.onStep?.(msg.step, msg.total) : p.onIndexedStep?.(msg.index, msg.step, msg.total);
      if (msg.type === 'preview') return p.onPreview?.(msg.preview);
      this.pending.delete(msg.id);
      if (msg.type === 'result') p.resolve(msg.result);
      else if (msg.type === 'batchResult') p.resolveBatch?.(msg.results);
      else p.reject(revive(msg.error));
    });
    worker.on('error', (err) => died(new EngineThreadDiedError(`engine thread crashed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      if (this.closed) return;
      died(new EngineThreadDiedError(`engine thread exited (code ${code})`));
    });
  }

  private onDeath(err: Error): void {
    this.alive = false;
    this.loaded.clear();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (this.closed) return;
    const now = Date.now();
    const windowMs = this.supervision.restartWindowMs ?? 60_000;
    this.deaths.push(now);
    while (this.deaths.length > 0 && this.deaths[0]! < now - windowMs) this.deaths.shift();
    const max = this.supervision.maxRestarts ?? 5;
    if (this.deaths.length > max) {
      this.log(`engine thread died ${this.deaths.length} times within ${windowMs} ms: giving up (${err.message})`);
      this.up = Promise.reject(err);
      this.up.catch(() => {});
      this.closed = true;
      (this.supervision.onFatal ?? (() => {}))(err);
      return;
    }
    const delay = Math.min(10_000, (this.supervision.restartBackoffMs ?? 500) * 2 ** (this.deaths.length - 1));
    this.log(`${err.message}; restarting it in ${delay} ms`);
    this.up = (async () => {
      await new Promise((r) => setTimeout(r, delay));
      if (this.closed) throw new Error('EngineHost is closed');
      try {
        const worker = await spawnThread(this.threadOpts, this.execArgv);
        if (this.closed) { await worker.terminate(); throw new Error('EngineHost is closed'); }
        this.worker = worker;
        this.attach(worker);
        this.alive = true;
      } catch (spawnErr) {
        this.onDeath(new EngineThreadDiedError(`engine thread could not restart: ${(spawnErr as Error).message}`, { cause: spawnErr }));
        return;
      }
      for (const model of this.wanted) {
        await this.load(model).catch((e: unknown) => this.log(`preloading ${model} after restart failed: ${(e as Error).message}`));
      }
    })();
    this.up.catch(() => {});
  }

  private async request<T>(build: (id: number) => ToEngine, listeners: Pick<Pending, 'onStep' | 'onPreview' | 'onIndexedStep'> = {}): Promise<T> {
    await this.up;
    return await this.send(build, listeners);
  }

  private async send<T>(build: (id: number) => ToEngine, listeners: Pick<Pending, 'onStep' | 'onPreview' | 'onIndexedStep'> = {}): Promise<T> {
    if (this.closed) throw new Error('EngineHost is closed');
    const id = this.nextId++;
    return await new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: GenerateResult) => void, resolveBatch: resolve as (r: BatchOutcome[]) => void, reject, ...listeners });
      this.worker.postMessage(build(id));
    });
  }

  /** Loads (and warms) a model's pipeline ahead of its first job (again after a thread restart). */
  async preload(modelId: string): Promise<void> {
    this.wanted.add(modelId);
    await this.up;
    await this.load(modelId);
  }

  /** Preload on the thread running now (the restart path calls it before `up` resolves). */
  private async load(modelId: string): Promise<void> {
    const worker = this.worker;
    await this.send<GenerateResult>((id) => ({ type: 'preload', id, modelId }));
    if (worker === this.worker && this.alive) this.loaded.add(modelId);
  }

  async generate(modelId: string, request: GenerateRequest, opts: HostGenerateOptions = {}): Promise<GenerateResult> {
    // Batching (when on) takes every job but those with live previews (a batch sends none).
    if (this.batches && !opts.preview) {
      const loras = (request.loras ?? []).map((l) => `${l.sha256}:${l.scale}`).sort().join(',');
      const key = `${modelId}|${loras}#${batchKey(request)}`;
      return await this.batches.submit(modelId, key, request, { onStep: opts.onStep, signal: opts.signal });
    }
    return await this.generateOne(modelId, request, opts);
  }

  /** One job on its own (no batching). */
  async generateOne(modelId: string, request: GenerateRequest, opts: HostGenerateOptions = {}): Promise<GenerateResult> {
    const { signal } = opts;
    if (signal?.aborted) throw abortError(signal.reason);
    const cancel = new SharedArrayBuffer(4);
    const flag = new Int32Array(cancel);
    const onAbort = () => Atomics.store(flag, 0, 1);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const preview = opts.preview ? { everySteps: opts.preview.everySteps } : undefined;
      return await this.request<GenerateResult>((id) => ({ type: 'generate', id, modelId, request, cancel, ...(preview ? { preview } : {}) }),
        { onStep: opts.onStep, onPreview: opts.preview?.onPreview });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Several compatible jobs (same model, same LoRA set, same batchKey) as one denoising batch on
   * the engine thread. Each entry keeps its own progress and cancellation (its signal: it leaves
   * the batch at the next step) and settles alone; a dead thread rejects every entry.
   */
  async generateBatch(modelId: string, entries: ReadonlyArray<{ request: GenerateRequest; opts?: Omit<HostGenerateOptions, 'preview'> }>):
    Promise<Array<PromiseSettledResult<GenerateResult>>> {
    const cancels = entries.map(() => new SharedArrayBuffer(4));
    const detach = entries.map((e, i) => {
      const signal = e.opts?.signal;
      const flag = new Int32Array(cancels[i]!);
      if (signal?.aborted) Atomics.store(flag, 0, 1);
      const onAbort = () => Atomics.store(flag, 0, 1);
      signal?.addEventListener('abort', onAbort, { once: true });
      return () => signal?.removeEventListener('abort', onAbort);
    });
    try {
      const outcomes = await this.request<BatchOutcome[]>(
        (id) => ({ type: 'generateBatch', id, modelId, requests: entries.map((e) => e.request), cancels }),
        { onIndexedStep: (index, step, total) => entries[index]?.opts?.onStep?.(step, total) },
      );
      return outcomes.map((o) => ('result' in o ? { status: 'fulfilled', value: o.result } : { status: 'rejected', reason: revive(o.error) }));
    } finally {
      for (const d of detach) d();
    }
  }

  /** Releases every session and ends the thread; pending jobs are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (this.alive) {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'close' } satisfies ToEngine);
      const timer = setTimeout(() => void worker.terminate(), 10_000);
      await exited;
      clearTimeout(timer);
    }
    this.alive = false;
    for (const p of this.pending.values()) p.reject(new Error('EngineHost closed'));
    this.pending.clear();
  }
}
