// The LoRAs of a job: the `loras` field (names in LORA_DIR, or URLs when ALLOW_LORA_URLS), then
// `<lora:name:scale>` prompt tags, each found, readable and fitting the model (its target modules
// exist with the right shapes), so a job that would fail in the worker is refused here with a 400
// naming the field and the module.
import { fieldProblem, HttpProblem, type AppliedLora, type CreateJobRequest } from '@sdsvc/contracts';
import type { ModelInfo } from '@sdsvc/engine/model-info';
import { checkLorasFit, LoraFormatError, LoraIncompatibleError, LoraUrlCache, OnnxFormatError, UnknownLoraError, type LoadedLora, type LoraLibrary } from '@sdsvc/lora';
import { fetchImage, ImageFetchError, ImageTooLargeError, UrlNotAllowedError } from '@sdsvc/net';
import type { ProcessedPrompt } from '@sdsvc/prompt';

export const DEFAULT_MAX_LORAS_PER_JOB = 4;

export interface LoraDeps {
  /** LORA_DIR; without it every named LoRA is unknown. */
  loras?: LoraLibrary;
  /** Present when ALLOW_LORA_URLS is on. */
  loraUrls?: LoraUrlCache;
  config: { maxLorasPerJob?: number };
}

/** A LoRA URL could not be fetched (HTTP error, timeout, larger than MAX_LORA_BYTES). */
export class LoraFetchError extends Error {
  readonly code = 'lora_fetch_failed';
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts);
    this.name = 'LoraFetchError';
  }
}

/** LORA_CACHE_DIR with a fetcher under the image URL rules and MAX_LORA_BYTES (API and workers). */
export function loraUrlCacheFor(config: { loraCacheDir: string; maxLoraBytes: number; imageFetchTimeoutMs: number; allowPrivateUrls: boolean }): LoraUrlCache {
  return new LoraUrlCache(config.loraCacheDir, async (url) => {
    try {
      const { body } = await fetchImage(url, { maxBytes: config.maxLoraBytes, timeoutMs: config.imageFetchTimeoutMs, allowPrivate: config.allowPrivateUrls });
      return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    } catch (err) {
      if (err instanceof UrlNotAllowedError) throw err;
      if (err instanceof ImageTooLargeError) throw new LoraFetchError(`LoRA URL: the file is larger than MAX_LORA_BYTES (${config.maxLoraBytes} bytes)`, { cause: err });
      if (err instanceof ImageFetchError) throw new LoraFetchError(err.message.replace(/^image URL/, 'LoRA URL'), { cause: err });
      throw err;
    }
  });
}

export async function resolveJobLoras(deps: LoraDeps, req: CreateJobRequest, prompt: ProcessedPrompt, model: ModelInfo): Promise<AppliedLora[]> {
  const wanted = [
    ...(req.loras ?? []).map((l, i) => ({ name: l.name, url: l.url, scale: l.scale, path: `loras.${i}.${l.url ? 'url' : 'name'}` })),
    ...prompt.loras.map((l) => ({ name: l.name, url: undefined, scale: l.scale, path: 'prompt' })),
  ];
  if (wanted.length === 0) return [];
  const max = deps.config.maxLorasPerJob ?? DEFAULT_MAX_LORAS_PER_JOB;
  if (wanted.length > max) {
    throw fieldProblem(400, 'limit_exceeded', 'loras', `the job asks for ${wanted.length} LoRAs (loras field and <lora:…> tags); at most ${max} (MAX_LORAS_PER_JOB)`);
  }
  const applied: AppliedLora[] = [];
  for (const w of wanted) {
    const label = w.url ?? w.name!;
    try {
      let lora: LoadedLora;
      if (w.url !== undefined) {
        if (!deps.loraUrls) throw fieldProblem(400, 'url_not_allowed', w.path, 'LoRA URLs are disabled on this server (ALLOW_LORA_URLS=false); use a name from GET /v1/loras');
        lora = await deps.loraUrls.load(w.url);
      } else {
        if (!deps.loras) throw new UnknownLoraError(label, 'this server has no LoRA folder');
        lora = await deps.loras.describe(label);
      }
      // Checked here when the model's folder is mounted on the API too; else the worker checks it
      // when it merges the LoRA (the job then fails with lora_incompatible).
      if (model.dir) await checkLorasFit(model.dir, [{ name: label, adapter: lora.adapter, scale: w.scale }]);
      applied.push({ name: label, ...(w.url ? { url: w.url } : {}), sha256: lora.sha256, scale: w.scale });
    } catch (err) {
      if (err instanceof UnknownLoraError) throw fieldProblem(400, 'unknown_lora', w.path, `${err.message} (GET /v1/loras lists them)`);
      if (err instanceof LoraFormatError) throw fieldProblem(400, 'lora_invalid', w.path, err.message);
      if (err instanceof LoraIncompatibleError) {
        throw fieldProblem(400, 'lora_incompatible', w.path, `${err.message.startsWith('LoRA') ? '' : `LoRA "${label}": `}${err.message} — it does not fit model ${model.id}`);
      }
      if (err instanceof UrlNotAllowedError) throw fieldProblem(400, 'url_not_allowed', w.path, `${w.path}: ${err.message}`);
      if (err instanceof LoraFetchError) throw fieldProblem(400, 'lora_fetch_failed', w.path, err.message);
      // The model's own graph cannot be read: the model is at fault, not the LoRA.
      if (err instanceof OnnxFormatError) {
        const detail = `model "${model.id}" cannot take LoRAs: ${err.message}`;
        throw new HttpProblem(503, 'model_unavailable', detail, { errors: [{ path: 'model', code: 'model_unavailable', message: detail }], headers: { 'retry-after': '10' } });
      }
      throw err;
    }
  }
  return applied;
}
