// `models pull`: a repository's ONNX export into MODELS_DIR/<id>. Files are downloaded into
// MODELS_DIR/.downloads/<id>/ (never scanned by the service), resumed from where an interrupted
// run stopped (byte ranges), checked against the Hub's hashes, checked by the engine's own model
// reader, and only then moved into place with one rename: a half-downloaded model is never visible.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readModelInfo } from '@sdsvc/engine/model-info';
import { checkHash } from './hashing.ts';
import { checkLayout, describeMissing, exportFolders } from './layout.ts';
import { writeManifest, type ModelManifest } from './manifest.ts';
import { HubError, listRepoFiles, openRemote, type HubOptions, type RemoteFile } from './remote.ts';

export const DOWNLOADS_DIR = '.downloads';
export const TRASH_DIR = '.trash';
export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface PullProgress { file: string; doneBytes: number; totalBytes: number }

export interface PullOptions extends HubOptions {
  repo: string;
  revision?: string;
  /** Folder of the repository holding the export (e.g. `onnx`); default the root. */
  subfolder?: string;
  /** Model id = folder name under MODELS_DIR; default the repository's name. */
  id?: string;
  modelsDir: string;
  /** Replace an installed model of the same id. */
  force?: boolean;
  onProgress?(p: PullProgress): void;
  onLog?(message: string): void;
}

export interface PullResult { id: string; dir: string; files: number; bytes: number; resumedBytes: number }

export function defaultModelId(repo: string): string {
  return repo.split('/').pop()!.toLowerCase();
}

export function checkModelId(id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id)) {
    throw new HubError(`"${id}" is not a usable model id (letters, digits, ".", "_" and "-", not starting with ".")`);
  }
}

const exists = (p: string) => stat(p).then(() => true, () => false);
const sizeOf = (p: string) => stat(p).then((s) => s.size, () => -1);

export async function pullModel(opts: PullOptions): Promise<PullResult> {
  const revision = opts.revision ?? 'main';
  const subfolder = (opts.subfolder ?? '').replace(/^\/+|\/+$/g, '');
  const id = opts.id ?? defaultModelId(opts.repo);
  checkModelId(id);
  const target = join(opts.modelsDir, id);
  if (!opts.force && await exists(target)) {
    throw new HubError(`model "${id}" is already installed in ${target}; remove it first (models rm ${id}) or pass --force`);
  }
  const log = opts.onLog ?? (() => {});

  // What the repository holds, and whether it is an export we can run, before downloading anything.
  const all = await listRepoFiles(opts.repo, revision, opts);
  const prefix = subfolder ? `${subfolder}/` : '';
  const files: RemoteFile[] = all.filter((f) => f.repoPath.startsWith(prefix)).map((f) => ({ ...f, path: f.repoPath.slice(prefix.length) }));
  const layout = checkLayout(files.map((f) => f.path));
  if (!layout.ok) throw new HubError(describeMissing(layout, opts.repo, subfolder, exportFolders(all.map((f) => f.repoPath))));
  const wanted = files.filter((f) => layout.wanted.includes(f.path));
  const totalBytes = wanted.reduce((n, f) => n + f.size, 0);

  // Staging: kept between runs for the same source so a new run resumes; another source starts over.
  const staging = join(opts.modelsDir, DOWNLOADS_DIR, id);
  const source = JSON.stringify({ repo: opts.repo, revision, subfolder });
  const sourceFile = join(staging, '.source.json');
  if (await readFile(sourceFile, 'utf8').catch(() => null) !== source) {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    await writeFile(sourceFile, source);
  }

  let doneBytes = 0;
  let resumedBytes = 0;
  for (const file of wanted) {
    const dest = join(staging, file.path);
    await mkdir(dirname(dest), { recursive: true });
    if (await sizeOf(dest) === file.size && await checkHash(dest, file) === null) {
      doneBytes += file.size; // finished by an earlier run
      opts.onProgress?.({ file: file.path, doneBytes, totalBytes });
      continue;
    }
    await rm(dest, { force: true });
    const part = `${dest}.part`;
    let offset = await sizeOf(part);
    if (offset > file.size) { await rm(part, { force: true }); offset = -1; }
    offset = Math.max(offset, 0);
    if (offset > 0) {
      resumedBytes += offset;
      log(`${file.path}: resuming at ${offset} of ${file.size} bytes`);
    }
    const base = doneBytes;
    let got = offset;
    opts.onProgress?.({ file: file.path, doneBytes: base + got, totalBytes });
    if (offset < file.size) {
      const body = Readable.fromWeb(await openRemote(opts.repo, revision, file, offset, opts) as import('node:stream/web').ReadableStream);
      body.on('data', (chunk: Buffer) => {
        got += chunk.length;
        opts.onProgress?.({ file: file.path, doneBytes: base + got, totalBytes });
      });
      await pipeline(body, createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' }));
    }
    const size = await sizeOf(part);
    if (size !== file.size) throw new HubError(`${file.path}: got ${size} bytes, the Hub lists ${file.size}; run the command again to resume`);
    const bad = await checkHash(part, file);
    if (bad) {
      await rm(part, { force: true }); // a corrupt partial must not be resumed
      throw new HubError(`${file.path}: ${bad}; the download was discarded, run the command again`);
    }
    await rename(part, dest);
    doneBytes += file.size;
  }

  // The engine's own reader decides whether the folder is usable, before anyone can see it.
  try {
    await readModelInfo(staging);
  } catch (err) {
    throw new HubError(`${opts.repo}: downloaded, but not usable: ${(err as Error).message} (kept in ${staging}, not installed)`);
  }
  await rm(sourceFile, { force: true });
  const manifest: ModelManifest = {
    repo: opts.repo, revision, subfolder, hubUrl: opts.hubUrl ?? DEFAULT_HUB_URL, installedAt: new Date().toISOString(),
    files: wanted.map(({ path, size, sha256, gitOid }) => ({ path, size, ...(sha256 ? { sha256 } : { gitOid }) })),
  };
  await writeManifest(staging, manifest);
  await installAtomically(opts.modelsDir, staging, target);
  return { id, dir: target, files: wanted.length, bytes: totalBytes, resumedBytes };
}

/** One rename puts the model in place; a replaced one is moved aside first, then deleted. */
async function installAtomically(modelsDir: string, staging: string, target: string): Promise<void> {
  let old: string | null = null;
  if (await exists(target)) {
    old = join(modelsDir, TRASH_DIR, `${target.split('/').pop()}-${Date.now()}`);
    await mkdir(dirname(old), { recursive: true });
    await rename(target, old);
  }
  await rename(staging, target);
  if (old) await rm(old, { recursive: true, force: true });
}
