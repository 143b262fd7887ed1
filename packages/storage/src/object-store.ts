// The ObjectStore contract shared by the S3 and file stores, and the key rules both enforce.
import { StorageError } from './errors.ts';

export interface ObjectInfo { contentType: string; bytes: number }

export interface ObjectStore {
  readonly kind: 's3' | 'file';
  /** Prefix from STORAGE_URL (s3://bucket/<prefix>), '' for the file store; see outputKey(). */
  readonly keyPrefix: string;
  /** Keys are full object keys ("outputs/<job>/0.png"), used as given. */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** Throws StorageError object_not_found / storage_unavailable. */
  get(key: string): Promise<Buffer>;
  /** null when absent. */
  head(key: string): Promise<ObjectInfo | null>;
  /** A URL a client can GET without credentials (presigned, public or signed file URL). */
  url(key: string): Promise<string>;
  /** Resolves when the store answers, else throws StorageError storage_unavailable. */
  ping(): Promise<void>;
  /** Removing an absent object is not an error. */
  delete(key: string): Promise<void>;
  /** Keys of every object under `<prefix>/` (a job's folder: retention, tests). */
  list(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

/** The key of output image `index` of a job: `<prefix>/<job id>/<index>.<ext>`. */
export function outputKey(store: Pick<ObjectStore, 'keyPrefix'>, jobId: string, index: number, ext: string): string {
  const tail = `${jobId}/${index}.${ext}`;
  return store.keyPrefix ? `${store.keyPrefix}/${tail}` : tail;
}

/** Keys are relative slash-separated paths of safe segments: no "", ".", ".." or hidden
 * (dot-first) segments, no backslashes or control characters. Hidden names are kept for the file
 * store's own files (temp files, the URL key). */
export function assertValidKey(key: string): void {
  const bad = (why: string) => new StorageError('invalid_key', `invalid object key "${key}": ${why}`);
  if (key.length === 0 || key.length > 1024) throw bad('length must be 1…1024');
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(key)) throw bad('backslash or control character');
  for (const seg of key.split('/')) {
    if (seg === '') throw bad('empty segment or leading/trailing slash');
    if (seg.startsWith('.')) throw bad('segments must not start with "."');
  }
}

/** Percent-encodes each segment, keeping the slashes. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

const TYPES: Record<string, string> = {
  png: 'image/png', webp: 'image/webp', jpg: 'image/jpeg', jpeg: 'image/jpeg', json: 'application/json', txt: 'text/plain',
};

export function contentTypeForKey(key: string): string {
  const ext = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  return TYPES[ext] ?? 'application/octet-stream';
}
