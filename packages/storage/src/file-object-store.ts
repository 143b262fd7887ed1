// Local-filesystem store (the embedded default): objects are files under `root`, written atomically
// (temp file + rename) and handed out as signed, expiring URLs served by the API at /v1/files/<key>.
import { randomBytes } from 'node:crypto';
import { createReadStream, constants as fsc, type ReadStream } from 'node:fs';
import { access, link, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { StorageError } from './errors.ts';
import { checkFileSignature, signFileKey, type SignedUrlCheck } from './file-url-signing.ts';
import { assertValidKey, contentTypeForKey, encodeKey, type ObjectInfo, type ObjectStore } from './object-store.ts';

export interface FileObjectStoreOptions {
  root: string;
  /** Base URL of the API (no trailing slash needed). */
  publicBaseUrl: string;
  /** HMAC key; absent → a random one kept in <root>/.url-secret, shared by processes using root. */
  secret?: string;
  ttlSeconds?: number;
}

export const URL_SECRET_FILE = '.url-secret';

/** Reads <root>/.url-secret, creating it once. link() fails if it exists, so two processes starting
 * together (API and worker) still end up with the same key. */
export async function loadOrCreateUrlSecret(root: string): Promise<string> {
  const file = join(root, URL_SECRET_FILE);
  await mkdir(root, { recursive: true });
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = join(root, `.tmp-secret-${randomBytes(8).toString('hex')}`);
  await writeFile(tmp, randomBytes(32).toString('base64url'), { mode: 0o600 });
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
  return (await readFile(file, 'utf8')).trim();
}

function unavailable(op: string, key: string, err: unknown): StorageError {
  return new StorageError('storage_unavailable', `file storage ${op} "${key}" failed: ${(err as Error).message}`, { cause: err });
}

export class FileObjectStore implements ObjectStore {
  readonly kind = 'file' as const;
  readonly keyPrefix = '';
  readonly root: string;
  readonly ttlSeconds: number;
  private readonly publicBaseUrl: string;
  private readonly secret: string;

  static async open(opts: FileObjectStoreOptions): Promise<FileObjectStore> {
    const root = resolve(opts.root);
    const secret = opts.secret ?? (await loadOrCreateUrlSecret(root));
    return new FileObjectStore({ ...opts, root, secret });
  }

  constructor(opts: FileObjectStoreOptions & { secret: string }) {
    this.root = resolve(opts.root);
    this.publicBaseUrl = opts.publicBaseUrl.replace(/\/+$/, '');
    this.secret = opts.secret;
    this.ttlSeconds = opts.ttlSeconds ?? 3600;
  }

  /** The file of a key; throws invalid_key for anything that could leave root. */
  pathFor(key: string): string {
    assertValidKey(key);
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new StorageError('invalid_key', `invalid object key "${key}": outside the store`);
    return path;
  }

  async put(key: string, body: Buffer, _contentType: string): Promise<void> {
    const path = this.pathFor(key);
    const tmp = join(dirname(path), `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(tmp, body);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {});
      throw unavailable('put', key, err);
    }
  }

  async get(key: string): Promise<Buffer> {
    const path = this.pathFor(key);
    try {
      return await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StorageError('object_not_found', `no object "${key}"`);
      throw unavailable('get', key, err);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const path = this.pathFor(key);
    try {
      const s = await stat(path);
      return s.isFile() ? { contentType: contentTypeForKey(key), bytes: s.size } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw unavailable('head', key, err);
    }
  }

  /** For the API's file route: a stream plus the headers it needs. Content type comes from the
   * extension (outputs are always .png/.webp/.jpeg). */
  async openRead(key: string): Promise<{ stream: ReadStream; bytes: number; contentType: string }> {
    const info = await this.head(key);
    if (!info) throw new StorageError('object_not_found', `no object "${key}"`);
    return { stream: createReadStream(this.pathFor(key)), ...info };
  }

  async url(key: string, nowMs = Date.now()): Promise<string> {
    this.pathFor(key);
    const expires = Math.floor(nowMs / 1000) + this.ttlSeconds;
    const sig = signFileKey(this.secret, key, expires);
    return `${this.publicBaseUrl}/v1/files/${encodeKey(key)}?expires=${expires}&sig=${sig}`;
  }

  /** Constant-time check of a /v1/files URL's `expires` and `sig` for `key` (the decoded path). */
  checkSignedUrl(key: string, expires: string | number, sig: string, nowMs = Date.now()): SignedUrlCheck {
    return checkFileSignature(this.secret, key, expires, sig, nowMs);
  }

  verifySignedUrl(key: string, expires: string | number, sig: string, nowMs = Date.now()): boolean {
    return this.checkSignedUrl(key, expires, sig, nowMs) === 'ok';
  }

  async ping(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      await access(this.root, fsc.W_OK | fsc.R_OK);
    } catch (err) {
      throw unavailable('ping', this.root, err);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const dir = this.pathFor(prefix);
    try {
      const entries = await readdir(dir, { recursive: true, withFileTypes: true });
      return entries.filter((e) => e.isFile() && !e.name.startsWith('.'))
        .map((e) => `${prefix}/${join(e.parentPath, e.name).slice(dir.length + 1).split(sep).join('/')}`).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw unavailable('list', prefix, err);
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathFor(key);
    try {
      await rm(path, { force: true });
    } catch (err) {
      throw unavailable('delete', key, err);
    }
  }

  async close(): Promise<void> {}
}
