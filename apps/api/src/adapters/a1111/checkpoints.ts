// Our model folders as A1111 checkpoints. The title is the model id; the hash identifies the
// export (sha256 of model_index.json and unet/config.json: hashing multi-GB weights per listing
// would cost too much), its first 10 hex digits are A1111's short hash.
import { basename, join } from 'node:path';
import { exportIdentity, type ModelInfo } from '@sdsvc/engine/model-info';
import type { ModelCatalog } from '@sdsvc/submission';

export interface Checkpoint { id: string; title: string; model_name: string; hash: string; sha256: string; filename: string; config: null }

const hashes = new Map<string, string>();

/** The export's hash: from its folder when mounted here, else as the worker holding it announced it. */
async function sha256Of(catalog: ModelCatalog, m: ModelInfo): Promise<string> {
  if (!m.dir) return catalog.announcement(m.id)?.sha256 ?? '';
  let digest = hashes.get(m.dir);
  if (!digest) {
    digest = (await exportIdentity(m.dir)).sha256;
    hashes.set(m.dir, digest);
  }
  return digest;
}

export async function listCheckpoints(catalog: ModelCatalog, modelsDir: string): Promise<Checkpoint[]> {
  return await Promise.all((await catalog.list()).map(async (m) => {
    const sha256 = await sha256Of(catalog, m);
    return { id: m.id, title: m.id, model_name: m.id, hash: sha256.slice(0, 10), sha256, filename: join(basename(modelsDir), m.id), config: null };
  }));
}

/** A checkpoint named by title, model name, hash or "title [hash]" (A1111's aliases) → its model id. */
export async function findCheckpoint(catalog: ModelCatalog, modelsDir: string, name: string): Promise<Checkpoint | null> {
  const wanted = name.trim();
  const bare = wanted.replace(/\s*\[[0-9a-f]{8,64}\]$/i, '');
  const all = await listCheckpoints(catalog, modelsDir);
  const found = all.find((c) => c.title === wanted || c.title === bare || c.hash === wanted || c.sha256 === wanted);
  if (found) return found;
  return (await catalog.get(bare)) ? (await listCheckpoints(catalog, modelsDir)).find((c) => c.id === bare) ?? null : null;
}
