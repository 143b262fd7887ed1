// The idempotency fingerprint of a submission: sha256 over the key-sorted body and each file's
// digest, so field order or the transport (JSON vs multipart) never changes it.
import { createHash } from 'node:crypto';
import type { ImageField } from '@sdsvc/contracts';

/** Placeholder in a submission body for an image that came as a file part. */
export const FILE_PART = '[multipart file]';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Key-sorted JSON. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isPlainObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

export function fingerprint(body: Record<string, unknown>, files: ReadonlyMap<ImageField, Buffer> = new Map()): string {
  const h = createHash('sha256').update(canonicalJson(body));
  for (const name of [...files.keys()].sort()) h.update(`\n${name}:`).update(createHash('sha256').update(files.get(name)!).digest('hex'));
  return h.digest('hex');
}
