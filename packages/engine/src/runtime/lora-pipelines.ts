/**
 * LoRA-merged pipelines, cached by (model, sorted [(LoRA sha256, scale)]): a second job with the
 * same set reuses the merged sessions instead of merging again. At most `max` sets are kept; the
 * least recently used is released. Lives on the engine thread, where jobs run one at a time, so a
 * pipeline is never released while a job uses it.
 */
import { loadLoraFile, UnknownLoraError, type LoraApplication } from '@sdsvc/lora';
import { loadLoraModels } from '../models/lora-models.ts';
import type { SessionConfig } from '../models/onnx-session.ts';
import type { StableDiffusionPipeline } from '../pipelines/stable-diffusion-pipeline.ts';
import type { EngineLora } from '../pipelines/types.ts';

export const DEFAULT_LORA_PIPELINES_MAX = 2;

export function loraSetKey(modelId: string, loras: readonly EngineLora[]): string {
  const parts = loras.map((l) => `${l.sha256}:${l.scale}`).sort();
  return `${modelId}|${parts.join(',')}`;
}

/** A copy of `base` with `loras` merged into its text encoder(s) and UNet (VAE shared). */
export async function mergeLoraPipeline(base: StableDiffusionPipeline, loras: readonly EngineLora[], cfg: SessionConfig = {}):
  Promise<{ pipeline: StableDiffusionPipeline; patched: number }> {
  // Applied in key order, so the same set gives the same weights whatever the request's order.
  const sorted = [...loras].sort((a, b) => (`${a.sha256}:${a.scale}` < `${b.sha256}:${b.scale}` ? -1 : 1));
  const apps: LoraApplication[] = [];
  for (const l of sorted) {
    const file = await loadLoraFile(l.file, l.name);
    if (file.sha256 !== l.sha256) throw new UnknownLoraError(l.name, `the file changed after the job was submitted (sha256 ${file.sha256.slice(0, 12)}…, expected ${l.sha256.slice(0, 12)}…)`);
    apps.push({ name: l.name, adapter: file.adapter, scale: l.scale });
  }
  const { models, patched } = await loadLoraModels(base.models, apps, cfg);
  return { pipeline: base.withModels(models), patched };
}

export class LoraPipelineCache {
  private readonly entries = new Map<string, Promise<StableDiffusionPipeline>>();
  private readonly max: number;
  private readonly cfg: SessionConfig;
  private readonly log: (message: string) => void;
  /** Merges done (cache misses that succeeded). */
  merges = 0;

  constructor(opts: { max?: number; sessionConfig?: SessionConfig; log?: (message: string) => void } = {}) {
    this.max = Math.max(1, opts.max ?? DEFAULT_LORA_PIPELINES_MAX);
    this.cfg = opts.sessionConfig ?? {};
    this.log = opts.log ?? (() => {});
  }

  async get(modelId: string, base: StableDiffusionPipeline, loras: readonly EngineLora[]): Promise<StableDiffusionPipeline> {
    const key = loraSetKey(modelId, loras);
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key); // most recently used goes last
      this.entries.set(key, entry);
      return entry;
    }
    entry = this.merge(modelId, base, loras);
    this.entries.set(key, entry);
    entry.catch(() => this.entries.get(key) === entry && this.entries.delete(key));
    while (this.entries.size > this.max) {
      const [oldest, p] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      await p.then((x) => x.release(), () => undefined);
    }
    return entry;
  }

  private async merge(modelId: string, base: StableDiffusionPipeline, loras: readonly EngineLora[]): Promise<StableDiffusionPipeline> {
    const started = performance.now();
    const { pipeline, patched } = await mergeLoraPipeline(base, loras, this.cfg);
    this.merges++;
    const ms = Math.round(performance.now() - started);
    this.log(`lora merge: ${loras.map((l) => `${l.name}:${l.scale}`).join(', ')} into ${modelId}: ${patched} weights in ${ms} ms (merge #${this.merges})`);
    return pipeline;
  }

  /** Releases the merged pipelines of one model (its base pipeline is going away). */
  async releaseModel(modelId: string): Promise<void> {
    for (const [key, p] of [...this.entries]) {
      if (!key.startsWith(`${modelId}|`)) continue;
      this.entries.delete(key);
      await p.then((x) => x.release(), () => undefined);
    }
  }

  async releaseAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const p of all) await p.then((x) => x.release(), () => undefined);
  }

  get size(): number {
    return this.entries.size;
  }
}
