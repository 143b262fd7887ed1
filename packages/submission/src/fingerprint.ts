// The idempotency fingerprint of a submission: sha256 over the key-sorted body and each file's
// digest, so field order or the transport (JSON vs multipart) never changes it.
import { createHash } from 'node:crypto';
import { HttpProblem, type ImageField } from '@sdsvc/contracts';

/** Placeholder in a submission body for an image that came as a file part. */
export const FILE_PART = '[multipart file]';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deepest nesting a request body may have: far above any real job, far below the stack's limit. */
export const MAX_JSON_DEPTH = 64;

/** 400 invalid_body when `v` nests deeper than `max` (checked without recursion, so any depth is safe). */
export function assertJsonDepth(v: unknown, max = MAX_JSON_DEPTH): void {
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= max) throw new HttpProblem(400, 'invalid_body', `the body nests deeper than ${max} levels`);
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
}

/** Key-sorted JSON. */
export function canonicalJson(v: unknown): string {
  assertJsonDepth(v);
  return canonical(v);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isPlainObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

export function fingerprint(body: Record<string, unknown>, files: ReadonlyMap<ImageField, Buffer> = new Map()): string {
  const h = createHash('sha256').update(canonicalJson(body));
  for (const name of [...files.keys()].sort()) h.update(`\n${name}:`).update(createHash('sha256').update(files.get(name)!).digest('hex'));
  return h.digest('hex');
}
