// The installed side: list MODELS_DIR, verify a model against its manifest, remove one.
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readModelInfo } from '@sdsvc/engine/model-info';
import { checkHash } from './hashing.ts';
import { readManifest } from './manifest.ts';
import { checkModelId, DOWNLOADS_DIR, TRASH_DIR } from './pull.ts';
import { HubError } from './remote.ts';

export interface LocalModel {
  id: string;
  dir: string;
  /** repo@revision[/subfolder] when installed by `models pull`, else null. */
  source: string | null;
  bytes: number;
  /** The engine's verdict: capabilities, or why it cannot be used. */
  usable: { ok: true; kind: string; capabilities: string[] } | { ok: false; reason: string };
}

async function folderBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += (await stat(join(e.parentPath, e.name))).size;
  }
  return n;
}

export async function listLocalModels(modelsDir: string): Promise<{ models: LocalModel[]; downloads: string[] }> {
  const entries = await readdir(modelsDir, { withFileTypes: true }).catch(() => []);
  const models: LocalModel[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const dir = join(modelsDir, e.name);
    const m = await readManifest(dir);
    const usable = await readModelInfo(dir).then(
      (i) => ({ ok: true as const, kind: i.kind, capabilities: [...i.capabilities] }),
      (err: Error) => ({ ok: false as const, reason: err.message }),
    );
    models.push({
      id: e.name, dir, bytes: await folderBytes(dir), usable,
      source: m ? `${m.repo}@${m.revision}${m.subfolder ? `/${m.subfolder}` : ''}` : null,
    });
  }
  const downloads = (await readdir(join(modelsDir, DOWNLOADS_DIR)).catch(() => [] as string[])).sort();
  return { models: models.sort((a, b) => a.id.localeCompare(b.id)), downloads };
}

export interface VerifyResult { id: string; ok: boolean; checked: number; problems: string[]; notes: string[] }

/** Re-hashes every file against the manifest `pull` wrote, then asks the engine's reader. */
export async function verifyModel(modelsDir: string, id: string): Promise<VerifyResult> {
  checkModelId(id);
  const dir = join(modelsDir, id);
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw new HubError(`model "${id}" is not installed in ${modelsDir}`);
  const problems: string[] = [];
  const notes: string[] = [];
  const manifest = await readManifest(dir);
  let checked = 0;
  if (!manifest) {
    notes.push('no .sdsvc-model.json (not installed by models pull): only the engine\'s check, no file hashes');
  } else {
    for (const f of manifest.files) {
      const path = join(dir, f.path);
      const size = await stat(path).then((s) => s.size, () => -1);
      if (size < 0) { problems.push(`${f.path}: missing`); continue; }
      if (size !== f.size) { problems.push(`${f.path}: ${size} bytes, expected ${f.size}`); continue; }
      const bad = await checkHash(path, f);
      if (bad) problems.push(`${f.path}: ${bad}`);
      checked++;
    }
  }
  await readModelInfo(dir).catch((err: Error) => problems.push(`engine: ${err.message}`));
  return { id, ok: problems.length === 0, checked, problems, notes };
}

/** Removes a model: moved aside in one rename (the service stops seeing it at once), then deleted. */
export async function removeModel(modelsDir: string, id: string): Promise<void> {
  checkModelId(id);
  const dir = join(modelsDir, id);
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw new HubError(`model "${id}" is not installed in ${modelsDir}`);
  const aside = join(modelsDir, TRASH_DIR, `${id}-${Date.now()}`);
  await mkdir(join(modelsDir, TRASH_DIR), { recursive: true });
  await rename(dir, aside);
  await rm(aside, { recursive: true, force: true });
  await rm(join(modelsDir, DOWNLOADS_DIR, id), { recursive: true, force: true });
}
