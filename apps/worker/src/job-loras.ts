// The LoRAs of a job as the engine takes them: files below LORA_DIR, or the disk copies of LoRAs
// given by URL (fetched again, under the same rules, when this worker has none with that sha256).
import type { AppliedLora } from '@sdsvc/contracts';
import type { EngineLora } from '@sdsvc/engine';
import { loraFilePath, UnknownLoraError, type LoraUrlCache } from '@sdsvc/lora';

export interface JobLoraDeps {
  /** LORA_DIR. */
  loraDir?: string;
  /** ALLOW_LORA_URLS: where URL LoRAs are fetched and kept. */
  loraUrls?: LoraUrlCache;
}

export async function lorasForEngine(loras: readonly AppliedLora[] | undefined, deps: JobLoraDeps): Promise<EngineLora[]> {
  const out: EngineLora[] = [];
  for (const l of loras ?? []) {
    let file: string;
    if (l.url) {
      if (!deps.loraUrls) throw new UnknownLoraError(l.url, 'LoRA URLs are disabled on this worker (ALLOW_LORA_URLS=false)');
      file = (await deps.loraUrls.load(l.url, l.sha256)).file;
    } else {
      file = loraFilePath(deps.loraDir ?? 'loras', l.name);
    }
    // The engine checks each file's sha256 against the one recorded at submission.
    out.push({ name: l.name, file, sha256: l.sha256, scale: l.scale });
  }
  return out;
}
