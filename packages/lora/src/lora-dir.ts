/**
 * LORA_DIR: `.safetensors` files, the id being the path below the folder without the extension
 * (`styles/ink` for `styles/ink.safetensors`). Listing reads each file once per (size, mtime), so
 * new and changed files are found on the next call without a restart.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { LoraFormatError, UnknownLoraError } from './errors.ts';
import { readLora, summarize, type LoraAdapter, type LoraComponent, type LoraNaming } from './lora-file.ts';
import { headerLength } from './safetensors.ts';

export const LORA_EXTENSION = '.safetensors';

export interface LoraEntry {
  id: string;
  file: string;
  bytes: number;
  sha256: string;
  naming: LoraNaming | null;
  ranks: number[];
  components: LoraComponent[];
  /** Why the file cannot be used (malformed), or null. */
  error: string | null;
}

export interface LoadedLora { id: string; file: string; bytes: number; sha256: string; adapter: LoraAdapter }

/** The sha256 of a file, streamed (LoRAs can be hundreds of MB). */
async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Names and shapes of a LoRA file from its header alone (the tensors are not read). */
async function readShapes(file: string, size: number): Promise<LoraAdapter> {
  const fh = await open(file, 'r');
  try {
    const first = new Uint8Array(Math.min(8, size));
    await fh.read(first, 0, first.length, 0);
    const n = headerLength(first, size);
    const prefix = new Uint8Array(8 + n);
    prefix.set(first);
    if (n > 0) await fh.read(prefix, 8, n, 8);
    return readLora(prefix, { shapesOnly: true, fileSize: size });
  } finally {
    await fh.close();
  }
}

const ID_RE = /^[A-Za-z0-9_][A-Za-z0-9_.+ -]*(\/[A-Za-z0-9_][A-Za-z0-9_.+ -]*)*$/;

/** Whether `id` may name a file below LORA_DIR (no "..", no absolute paths, no odd characters). */
export function isLoraId(id: string): boolean {
  return id.length > 0 && id.length <= 200 && ID_RE.test(id) && !id.split('/').some((p) => p === '.' || p === '..' || p.endsWith('.'));
}

/** The file of LoRA `id` below `dir` (ids are checked with isLoraId first). */
export function loraFilePath(dir: string, id: string): string {
  return join(resolve(dir), ...id.split('/')) + LORA_EXTENSION;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface Cached { size: number; mtimeMs: number; entry: LoraEntry; adapter: LoraAdapter | null }

/**
 * Reads each file once per (size, mtime): its sha256 (streamed) and its header (names, shapes);
 * tensors are never held here. `describe` gives what the API needs to check a job; the engine
 * reads the whole file itself (loadLoraFile).
 */
export class LoraLibrary {
  readonly dir: string;
  private readonly cache = new Map<string, Cached>();

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  private async read(id: string, file: string): Promise<Cached> {
    const st = await stat(file);
    const hit = this.cache.get(file);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit;
    const sha256 = await hashFile(file);
    let adapter: LoraAdapter | null = null;
    let error: string | null = null;
    try {
      adapter = await readShapes(file, st.size);
    } catch (err) {
      if (!(err instanceof LoraFormatError)) throw err;
      error = err.message;
    }
    const s = adapter ? summarize(adapter) : { naming: null, ranks: [], components: [] };
    const entry: LoraEntry = { id, file, bytes: st.size, sha256, ...s, error };
    const cached = { size: st.size, mtimeMs: st.mtimeMs, entry, adapter };
    this.cache.set(file, cached);
    return cached;
  }

  /** Every `.safetensors` below the folder, sorted by id; a missing folder is an empty list. */
  async list(): Promise<LoraEntry[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir, { recursive: true })).map(String);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: LoraEntry[] = [];
    for (const name of names.filter((n) => n.endsWith(LORA_EXTENSION)).sort()) {
      const id = name.slice(0, -LORA_EXTENSION.length).split(sep).join('/');
      if (!isLoraId(id)) continue;
      try {
        out.push((await this.read(id, join(this.dir, name))).entry);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted while listing
      }
    }
    return out;
  }

  /**
   * The LoRA called `id`, shapes only (its adapter's tensors hold no data, alpha is NaN): enough
   * to check it against a model. UnknownLoraError when there is none, LoraFormatError when it is malformed.
   */
  async describe(id: string): Promise<LoadedLora> {
    if (!isLoraId(id)) throw new UnknownLoraError(id, 'not a valid LoRA id (a path below LORA_DIR without .safetensors)');
    const file = loraFilePath(this.dir, id);
    if (relative(this.dir, file).startsWith('..')) throw new UnknownLoraError(id, 'outside LORA_DIR');
    let c: Cached;
    try {
      c = await this.read(id, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') throw new UnknownLoraError(id, `no ${id}${LORA_EXTENSION} in LORA_DIR`);
      throw err;
    }
    if (!c.adapter) throw new LoraFormatError(`LoRA "${id}": ${c.entry.error}`);
    return { id, file, bytes: c.entry.bytes, sha256: c.entry.sha256, adapter: c.adapter };
  }
}

/** Reads one LoRA file by path (the CLI's `--lora ./file.safetensors`, the engine). */
export async function loadLoraFile(file: string, id = file): Promise<LoadedLora> {
  const bytes = new Uint8Array(await readFile(file));
  let adapter: LoraAdapter;
  try {
    adapter = readLora(bytes);
  } catch (err) {
    if (err instanceof LoraFormatError) throw new LoraFormatError(`LoRA "${id}": ${err.message}`, err.tensor);
    throw err;
  }
  return { id, file, bytes: bytes.byteLength, sha256: sha256Hex(bytes), adapter };
}
