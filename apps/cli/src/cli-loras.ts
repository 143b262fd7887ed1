/** LoRAs for a CLI run: --lora options and <lora:…> prompt tags merged into the loaded pipeline. */
import { existsSync, readFileSync } from 'node:fs';
import { LoraPipelineCache, type EngineLora, type StableDiffusionPipeline } from '@sdsvc/engine';
import { isLoraId, loraFilePath, sha256Hex } from '@sdsvc/lora';
import type { LoraTag } from '@sdsvc/prompt';
import { cliLoraDir, UsageError, type CliLora } from './cli-args.ts';

/** Prompt tags name LoRAs in LORA_DIR. */
export function tagLoras(tags: readonly LoraTag[]): CliLora[] {
  return tags.map((t) => {
    if (!isLoraId(t.name)) throw new UsageError(`<lora:${t.name}>: not a LoRA name`);
    return { name: t.name, file: loraFilePath(cliLoraDir(), t.name), scale: t.scale };
  });
}

/**
 * The pipeline to run: `pipe` itself without LoRAs, else a merged copy (its own text encoder and
 * UNet sessions; release() frees them).
 */
export async function pipelineWithLoras(pipe: StableDiffusionPipeline, loras: readonly CliLora[]): Promise<{ runner: StableDiffusionPipeline; release(): Promise<void> }> {
  if (loras.length === 0) return { runner: pipe, release: async () => {} };
  const engineLoras: EngineLora[] = loras.map((l) => {
    if (!existsSync(l.file)) throw new UsageError(`--lora: no file ${l.file}${l.name ? ` (LoRA "${l.name}" in ${cliLoraDir()})` : ''}`);
    return { name: l.name ?? l.file, file: l.file, sha256: sha256Hex(readFileSync(l.file)), scale: l.scale };
  });
  const cache = new LoraPipelineCache({ max: 1, log: (m) => process.stderr.write(`${m}\n`) });
  return { runner: await cache.get(pipe.info.id, pipe, engineLoras), release: () => cache.releaseAll() };
}
