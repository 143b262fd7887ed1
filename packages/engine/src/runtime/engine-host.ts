/**
 * EngineHost: the main-thread handle on the engine thread. generate() forwards a job, relays
 * per-step progress, and cancels through a SharedArrayBuffer flag when the signal aborts.
 */
import { Worker } from 'node:worker_threads';
import type { GenerateRequest, GenerateResult } from '../pipelines/types.ts';
import { abortError } from '../pipelines/abort.ts';
import type { EngineThreadOptions, FromEngine, SerializedError, ToEngine } from './messages.ts';

export type EngineHostOptions = EngineThreadOptions & { log?: (message: string) => void };

export interface HostGenerateOptions {
  onStep?: (step: number, total: number) => void;
  signal?: AbortSignal;
}

interface Pending {
  resolve(r: GenerateResult): void;
  reject(e: Error): void;
  onStep?: (step: number, total: number) => void;
}

function revive(e: SerializedError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = `${e.name}: ${e.message}\n    at (engine thread)\n${e.stack.split('\n').slice(1).join('\n')}`;
  return err;
}

export class EngineHost {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  private constructor(worker: Worker, log: (m: string) => void) {
    this.worker = worker;
    worker.on('message', (msg: FromEngine) => {
      if (msg.type === 'log') return log(msg.message);
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.type === 'progress') return p.onStep?.(msg.step, msg.total);
      this.pending.delete(msg.id);
      if (msg.type === 'result') p.resolve(msg.result);
      else p.reject(revive(msg.error));
    });
    const failAll = (err: Error) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => {
      if (!this.closed) failAll(new Error(`engine thread exited (code ${code})`));
      this.closed = true;
    });
  }

  static async start(opts: EngineHostOptions): Promise<EngineHost> {
    const { log = (m: string) => console.warn(m), ...threadOpts } = opts;
    const worker = new Worker(new URL('./engine-thread.ts', import.meta.url), { workerData: threadOpts });
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve);
      worker.once('error', reject);
    });
    return new EngineHost(worker, log);
  }

  private send(msg: ToEngine): void {
    if (this.closed) throw new Error('EngineHost is closed');
    this.worker.postMessage(msg);
  }

  /** Loads (and warms) a model's pipeline ahead of its first job. */
  preload(modelId: string): Promise<void> {
    const id = this.nextId++;
    return new Promise<GenerateResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ type: 'preload', id, modelId });
    }).then(() => undefined);
  }

  generate(modelId: string, request: GenerateRequest, opts: HostGenerateOptions = {}): Promise<GenerateResult> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    const id = this.nextId++;
    const cancel = new SharedArrayBuffer(4);
    const flag = new Int32Array(cancel);
    const onAbort = () => Atomics.store(flag, 0, 1);
    signal?.addEventListener('abort', onAbort, { once: true });
    return new Promise<GenerateResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onStep: opts.onStep });
      this.send({ type: 'generate', id, modelId, request, cancel });
    }).finally(() => signal?.removeEventListener('abort', onAbort));
  }

  /** Releases every session and ends the thread; pending jobs are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' } satisfies ToEngine);
    this.closed = true;
    const timer = setTimeout(() => void this.worker.terminate(), 10_000);
    await exited;
    clearTimeout(timer);
    for (const p of this.pending.values()) p.reject(new Error('EngineHost closed'));
    this.pending.clear();
  }
}
