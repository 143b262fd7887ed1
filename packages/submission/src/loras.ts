// The LoRAs of a job: the `loras` field, then `<lora:name:scale>` prompt tags, each found in
// LORA_DIR, readable, and fitting the model (its target modules exist with the right shapes), so a
// job that would fail in the worker is refused here with a 400 naming the field and the module.
import { fieldProblem, type AppliedLora, type CreateJobRequest } from '@sdsvc/contracts';
import type { ModelInfo } from '@sdsvc/engine/model-info';
import { checkLorasFit, LoraFormatError, LoraIncompatibleError, UnknownLoraError, type LoraLibrary } from '@sdsvc/lora';
import type { ProcessedPrompt } from '@sdsvc/prompt';

export const DEFAULT_MAX_LORAS_PER_JOB = 4;

export interface LoraDeps {
  /** LORA_DIR; without it every named LoRA is unknown. */
  loras?: LoraLibrary;
  config: { maxLorasPerJob?: number };
}

export async function resolveJobLoras(deps: LoraDeps, req: CreateJobRequest, prompt: ProcessedPrompt, model: ModelInfo): Promise<AppliedLora[]> {
  const wanted = [
    ...(req.loras ?? []).map((l, i) => ({ ...l, path: `loras.${i}.name` })),
    ...prompt.loras.map((l) => ({ ...l, path: 'prompt' })),
  ];
  if (wanted.length === 0) return [];
  const max = deps.config.maxLorasPerJob ?? DEFAULT_MAX_LORAS_PER_JOB;
  if (wanted.length > max) {
    throw fieldProblem(400, 'limit_exceeded', 'loras', `the job asks for ${wanted.length} LoRAs (loras field and <lora:…> tags); at most ${max} (MAX_LORAS_PER_JOB)`);
  }
  const applied: AppliedLora[] = [];
  for (const w of wanted) {
    try {
      if (!deps.loras) throw new UnknownLoraError(w.name, 'this server has no LoRA folder');
      const lora = await deps.loras.load(w.name);
      // The engine merges text-encoder LoRAs into SD 1.x/2.x only (SDXL: UNet targets).
      const te = model.kind === 'sdxl' ? lora.adapter.targets.find((t) => t.component !== 'unet') : undefined;
      if (te) throw new LoraIncompatibleError(te.label, 'is a text-encoder target: text-encoder LoRAs on SDXL models are not supported yet', w.name);
      await checkLorasFit(model.dir, [{ name: w.name, adapter: lora.adapter, scale: w.scale }]);
      applied.push({ name: w.name, sha256: lora.sha256, scale: w.scale });
    } catch (err) {
      if (err instanceof UnknownLoraError) throw fieldProblem(400, 'unknown_lora', w.path, `${err.message} (GET /v1/loras lists them)`);
      if (err instanceof LoraFormatError) throw fieldProblem(400, 'lora_invalid', w.path, err.message);
      if (err instanceof LoraIncompatibleError) {
        throw fieldProblem(400, 'lora_incompatible', w.path, `${err.message.startsWith('LoRA') ? '' : `LoRA "${w.name}": `}${err.message} — it does not fit model ${model.id}`);
      }
      throw err;
    }
  }
  return applied;
}
