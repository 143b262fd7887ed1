// The remote side: a repository's files (tree listing with LFS metadata) and their bytes (resolve
// URL, redirects followed, byte ranges to resume), through @huggingface/hub.
import { downloadFile, listFiles } from '@huggingface/hub';

export interface HubOptions {
  /** HF_ENDPOINT (default https://huggingface.co). */
  hubUrl?: string;
  /** HF_TOKEN. */
  token?: string;
  fetch?: typeof fetch;
}

export interface RemoteFile {
  /** Path in the repository. */
  repoPath: string;
  /** Path inside the model folder (repoPath without the subfolder). */
  path: string;
  size: number;
  sha256?: string;
  gitOid?: string;
}

export class HubError extends Error {
  override name = 'HubError';
}

const creds = (o: HubOptions) => ({ hubUrl: o.hubUrl, fetch: o.fetch, ...(o.token ? { accessToken: o.token } : {}) });

export async function listRepoFiles(repo: string, revision: string, opts: HubOptions): Promise<RemoteFile[]> {
  const files: RemoteFile[] = [];
  try {
    for await (const e of listFiles({ repo, revision, recursive: true, ...creds(opts) })) {
      if (e.type !== 'file') continue;
      files.push({ repoPath: e.path, path: e.path, size: e.lfs?.size ?? e.size, sha256: e.lfs?.oid, gitOid: e.lfs ? undefined : e.oid });
    }
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 401 || status === 403) throw new HubError(`${repo}: access denied (${status}); set HF_TOKEN to a token that can read it`);
    if (status === 404) throw new HubError(`${repo}: repository or revision "${revision}" not found`);
    throw new HubError(`${repo}: cannot list files: ${(err as Error).message}`);
  }
  return files;
}

/** The file's bytes from `offset` on (a Range request when offset > 0). */
export async function openRemote(repo: string, revision: string, file: RemoteFile, offset: number, opts: HubOptions): Promise<ReadableStream<Uint8Array>> {
  // xet: false: the classic resolve URL (redirect to the LFS store), which serves byte ranges.
  const blob = await downloadFile({ repo, revision, path: file.repoPath, xet: false, ...creds(opts) });
  if (!blob) throw new HubError(`${repo}: ${file.repoPath} disappeared from revision ${revision}`);
  return (offset > 0 ? blob.slice(offset) : blob).stream() as ReadableStream<Uint8Array>;
}
