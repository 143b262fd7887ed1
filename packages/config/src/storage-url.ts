// STORAGE_URL: `s3://bucket/prefix` or `file://path` (relative paths resolve against the working
// directory, `file:///abs` is absolute).
import { resolve } from 'node:path';

export type StorageLocation =
  | { kind: 's3'; bucket: string; prefix: string }
  | { kind: 'file'; root: string };

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseStorageUrl(raw: string, cwd = process.cwd()): StorageLocation | string {
  const s = raw.trim();
  if (s.startsWith('s3://')) {
    const rest = s.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
    if (!BUCKET.test(bucket)) return `"${bucket}" is not a valid S3 bucket name`;
    if (prefix.split('/').some((seg) => seg === '.' || seg === '..')) return 'the S3 prefix must not contain "." or ".." segments';
    return { kind: 's3', bucket, prefix };
  }
  if (s.startsWith('file://')) {
    const path = decodeURIComponent(s.slice('file://'.length));
    if (path === '') return 'file:// needs a path, e.g. file://./.data/storage';
    return { kind: 'file', root: resolve(cwd, path) };
  }
  return `expected s3://bucket/prefix or file://path, got "${raw}"`;
}
