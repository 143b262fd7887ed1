// The models this worker holds: every usable folder in MODELS_DIR, or the ones WORKER_MODELS names.
// A named model that is missing or unusable stops the worker at start: a fleet whose hosts silently
// hold less than configured would answer model_unavailable with nobody knowing why.
import { scanModels, type ModelInfo } from '@sdsvc/engine/model-info';
import type { Logger } from '@sdsvc/logging';

export async function resolveHeldModels(modelsDir: string, wanted: readonly string[], logger: Logger): Promise<ModelInfo[]> {
  const scan = await scanModels(modelsDir);
  for (const p of scan.problems) logger.warn({ model: p.id, reason: p.message }, `model "${p.id}" not held: ${p.message}`);
  if (wanted.length === 0) {
    if (scan.models.length === 0) throw new Error(`MODELS_DIR (${modelsDir}) holds no usable model`);
    return scan.models;
  }
  const missing = wanted.filter((id) => !scan.models.some((m) => m.id === id));
  if (missing.length > 0) {
    const why = missing.map((id) => `${id} (${scan.problems.find((p) => p.id === id)?.message ?? 'no such folder'})`);
    throw new Error(`WORKER_MODELS names models MODELS_DIR (${modelsDir}) cannot provide: ${why.join(', ')}`);
  }
  return scan.models.filter((m) => wanted.includes(m.id));
}
