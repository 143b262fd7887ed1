/**
 * Which pipelines stay loaded on the engine thread, under one budget: at most `maxModels` base
 * models (MODEL_CACHE_MAX), at most `maxLoraPipelines` LoRA-merged copies, and at most `maxBytes`
 * weight bytes (MODEL_CACHE_BYTES, 0 = no byte limit) for both together. The least recently used
 * entry is released first, and room is made *before* a load, so the old and the new weights are
 * never resident at once beyond the budget. A LoRA copy shares its base's VAE (and untouched
 * encoders): releasing a base releases its copies too, and using a copy counts as using its base.
 * An entry alone larger than the budget still loads (logged): a job is never refused by the cache.
 * Jobs run one at a time on the engine thread, so nothing is released while a job uses it.
 */

export interface ResidencyLimits {
  /** Base models kept (default 2). */
  maxModels?: number;
  /** LoRA-merged pipelines kept (default 2). */
  maxLoraPipelines?: number;
  /** Weight bytes kept across models and LoRA copies; 0 or absent: no byte limit. */
  maxBytes?: number;
}

export const DEFAULT_MODEL_CACHE_MAX = 2;

export interface Releasable { release(): Promise<void> }

interface Entry<T> {
  key: string;
  kind: 'model' | 'lora';
  /** A LoRA copy's base model key. */
  base?: string;
  bytes: number;
  value: Promise<T>;
}

export interface ResidentEntry { key: string; kind: 'model' | 'lora'; bytes: number }

export class PipelineResidency<T extends Releasable> {
  readonly #entries = new Map<string, Entry<T>>(); // insertion order = least recently used first
  readonly #maxModels: number;
  readonly #maxLora: number;
  readonly #maxBytes: number;
  readonly #log: (message: string) => void;
  /** Loads done (misses that started a load). */
  loads = 0;

  constructor(limits: ResidencyLimits = {}, log: (message: string) => void = () => {}) {
    this.#maxModels = Math.max(1, limits.maxModels ?? DEFAULT_MODEL_CACHE_MAX);
    this.#maxLora = Math.max(1, limits.maxLoraPipelines ?? 2);
    this.#maxBytes = Math.max(0, limits.maxBytes ?? 0);
    this.#log = log;
  }

  /**
   * The resident value of `key`, or a new one from `load` after making room for `bytes` (an
   * estimate; `load` may return the exact figure). For a LoRA copy, `base` is its model's key:
   * kept while the copy loads, and touched with it.
   */
  async get(key: string, spec: { kind: 'model' | 'lora'; base?: string; bytes: number; load: () => Promise<{ value: T; bytes?: number }> }): Promise<T> {
    const hit = this.#entries.get(key);
    if (hit) {
      if (hit.base) this.#touch(hit.base);
      this.#touch(key);
      return await hit.value;
    }
    if (spec.base) this.#touch(spec.base);
    await this.#makeRoom(spec.kind, spec.bytes, spec.base);
    const entry: Entry<T> = { key, kind: spec.kind, base: spec.base, bytes: spec.bytes, value: undefined as unknown as Promise<T> };
    entry.value = spec.load().then(({ value, bytes }) => {
      if (bytes !== undefined) entry.bytes = bytes;
      return value;
    });
    this.#entries.set(key, entry);
    this.loads++;
    entry.value.catch(() => { if (this.#entries.get(key) === entry) this.#entries.delete(key); }); // a failed load may work later
    return await entry.value;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** Resident entries, least recently used first. */
  entries(): ResidentEntry[] {
    return [...this.#entries.values()].map(({ key, kind, bytes }) => ({ key, kind, bytes }));
  }

  get bytes(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.bytes;
    return n;
  }

  /** Releases one entry (a model: with its LoRA copies). */
  async release(key: string): Promise<void> {
    const e = this.#entries.get(key);
    if (!e) return;
    if (e.kind === 'model') {
      for (const dep of [...this.#entries.values()]) if (dep.base === key) await this.#drop(dep);
    }
    await this.#drop(e);
  }

  async releaseAll(): Promise<void> {
    // Copies before bases: a copy's release touches only its own sessions.
    const all = [...this.#entries.values()].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'lora' ? -1 : 1));
    for (const e of all) await this.#drop(e);
  }

  #touch(key: string): void {
    const e = this.#entries.get(key);
    if (!e) return;
    this.#entries.delete(key);
    this.#entries.set(key, e);
  }

  async #drop(e: Entry<T>): Promise<void> {
    if (this.#entries.get(e.key) !== e) return;
    this.#entries.delete(e.key);
    await e.value.then((v) => v.release(), () => undefined);
    this.#log(`model cache: released ${e.key} (${mib(e.bytes)}); resident: ${this.#summary()}`);
  }

  async #makeRoom(kind: 'model' | 'lora', bytes: number, keep?: string): Promise<void> {
    for (;;) {
      const list = [...this.#entries.values()];
      const models = list.filter((e) => e.kind === 'model').length + (kind === 'model' ? 1 : 0);
      const loras = list.filter((e) => e.kind === 'lora').length + (kind === 'lora' ? 1 : 0);
      const total = this.bytes + bytes;
      const evictable = (e: Entry<T>) => e.key !== keep; // a LoRA copy's base stays while it loads
      let victim: Entry<T> | undefined;
      if (loras > this.#maxLora && kind === 'lora') victim = list.find((e) => e.kind === 'lora' && evictable(e));
      if (!victim && models > this.#maxModels) victim = list.find((e) => e.kind === 'model' && evictable(e));
      if (!victim && this.#maxBytes > 0 && total > this.#maxBytes) victim = list.find(evictable);
      if (!victim) {
        if (this.#maxBytes > 0 && total > this.#maxBytes) {
          this.#log(`model cache: ${mib(total)} resident after this load, over MODEL_CACHE_BYTES (${mib(this.#maxBytes)}): nothing else can be released`);
        }
        return;
      }
      await this.release(victim.key);
    }
  }

  #summary(): string {
    const list = this.entries();
    return list.length === 0 ? 'none' : `${list.map((e) => e.key).join(', ')} (${mib(this.bytes)})`;
  }
}

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
