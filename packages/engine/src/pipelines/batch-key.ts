/** Which jobs may share a denoising batch (batch-generate.ts); small so the main thread can import it. */
import type { GenerateRequest } from './types.ts';

/** Jobs with the same key can share a denoising batch. */
export function batchKey(req: GenerateRequest): string {
  // An unset strength is the model's default: it matches only other unset ones.
  const strength = req.mode === 'txt2img' ? '' : String(req.strength ?? 'default');
  const scheduler = !req.scheduler || req.scheduler.trim().toLowerCase() === 'default' ? 'default' : req.scheduler.trim().toLowerCase();
  return [req.mode, req.width, req.height, scheduler, req.steps, strength, req.guidanceScale > 1 ? 'cfg' : 'nocfg'].join('|');
}
