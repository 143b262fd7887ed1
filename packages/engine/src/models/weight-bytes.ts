/**
 * Weight bytes of a model folder's graphs: every file of each graph folder (model.onnx and its
 * external data). What the model cache budgets (MODEL_CACHE_BYTES) and the bench compares peak RSS to.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes per graph folder that holds a model.onnx (unet, text_encoder, vae_decoder, …). */
export async function graphWeightBytes(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const folder = join(dir, entry.name);
    const files = await readdir(folder, { withFileTypes: true });
    if (!files.some((f) => f.isFile() && f.name === 'model.onnx')) continue;
    let n = 0;
    for (const f of files) if (f.isFile()) n += (await stat(join(folder, f.name))).size;
    out[entry.name] = n;
  }
  return out;
}

export const sumBytes = (graphs: Record<string, number>, names?: readonly string[]): number =>
  (names ?? Object.keys(graphs)).reduce((n, g) => n + (graphs[g] ?? 0), 0);
