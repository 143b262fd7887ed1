/**
 * Cross-request batching on the main thread (BATCH_MAX_JOBS, BATCH_WAIT_MS): generate calls that
 * can share a denoising batch (same model, LoRA set and batchKey) are held up to `waitMs` for
 * companions, and while the engine runs a batch, so the next batch takes everything compatible
 * that arrived meanwhile; a group is sent as soon as it has `maxJobs` jobs. A job whose signal
 * aborts while it waits here leaves its group at once (AbortError); once sent, the engine drops
 * it at the next step. Every caller gets its own result or error.
 */
import { abortError } from '../pipelines/abort.ts';
import type { GenerateRequest, GenerateResult } from '../pipelines/types.ts';

export interface BatchItemOptions {
  onStep?: (step: number, total: number) => void;
  signal?: AbortSignal;
}

interface Item {
  request: GenerateRequest;
  opts: BatchItemOptions;
  resolve(r: GenerateResult): void;
  reject(e: unknown): void;
  detach(): void;
}

interface Group { key: string; modelId: string; items: Item[]; due: boolean; timer?: NodeJS.Timeout }

export type RunBatch = (modelId: string, entries: Array<{ request: GenerateRequest; opts: BatchItemOptions }>) =>
  Promise<Array<PromiseSettledResult<GenerateResult>>>;

export class BatchCollector {
  readonly #run: RunBatch;
  readonly #maxJobs: number;
  readonly #waitMs: number;
  readonly #groups: Group[] = [];
  #busy = false;
  /** Sizes of the batches sent (tests, metrics). */
  readonly sent: number[] = [];

  constructor(run: RunBatch, opts: { maxJobs: number; waitMs: number }) {
    this.#run = run;
    this.#maxJobs = Math.max(1, opts.maxJobs);
    this.#waitMs = Math.max(0, opts.waitMs);
  }

  submit(modelId: string, key: string, request: GenerateRequest, opts: BatchItemOptions = {}): Promise<GenerateResult> {
    return new Promise<GenerateResult>((resolve, reject) => {
      if (opts.signal?.aborted) { reject(abortError(opts.signal.reason)); return; }
      let group = this.#groups.find((g) => g.key === key && g.items.length < this.#maxJobs);
      if (!group) {
        const g: Group = { key, modelId, items: [], due: false };
        g.timer = setTimeout(() => { g.due = true; this.#pump(); }, this.#waitMs);
        this.#groups.push(g);
        group = g;
      }
      const g = group;
      const onAbort = () => {
        const i = g.items.indexOf(item);
        if (i < 0 || !this.#groups.includes(g)) return; // already sent: the engine drops it at the next step
        g.items.splice(i, 1);
        if (g.items.length === 0) this.#drop(g);
        reject(abortError(opts.signal!.reason));
      };
      const item: Item = { request, opts, resolve, reject, detach: () => opts.signal?.removeEventListener('abort', onAbort) };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      g.items.push(item);
      if (g.items.length >= this.#maxJobs) { g.due = true; this.#pump(); }
    });
  }

  #drop(g: Group): void {
    clearTimeout(g.timer);
    const i = this.#groups.indexOf(g);
    if (i >= 0) this.#groups.splice(i, 1);
  }

  #pump(): void {
    if (this.#busy) return;
    const g = this.#groups.find((x) => x.due);
    if (!g) return;
    this.#drop(g);
    this.#busy = true;
    this.sent.push(g.items.length);
    const items = g.items;
    this.#run(g.modelId, items.map((it) => ({ request: it.request, opts: it.opts })))
      .then((settled) => items.forEach((it, i) => {
        const s = settled[i];
        if (s?.status === 'fulfilled') it.resolve(s.value);
        else it.reject(s ? s.reason : new Error('no result for this job'));
      }), (err: unknown) => { for (const it of items) it.reject(err); })
      .finally(() => {
        for (const it of items) it.detach();
        this.#busy = false;
        this.#pump();
      });
  }
}
