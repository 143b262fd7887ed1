// Content hashes the Hub publishes: sha256 for LFS files (lfs.oid), the git blob id (sha1 of
// "blob <size>\0" + content) for the others (oid).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function gitBlobOid(path: string): Promise<string> {
  const { size } = await stat(path);
  const hash = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** What a file must hash to: LFS files by sha256, others by git blob id. */
export interface ExpectedHash { sha256?: string; gitOid?: string }

/** Null when the file matches, else why not. */
export async function checkHash(path: string, expected: ExpectedHash): Promise<string | null> {
  if (expected.sha256) {
    const got = await sha256File(path);
    return got === expected.sha256 ? null : `sha256 ${got} does not match the Hub's LFS sha256 ${expected.sha256}`;
  }
  if (expected.gitOid) {
    const got = await gitBlobOid(path);
    return got === expected.gitOid ? null : `git blob id ${got} does not match the Hub's ${expected.gitOid}`;
  }
  return 'no hash to check against';
}
