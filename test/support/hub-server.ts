// A local HTTP server that speaks the Hugging Face Hub's file API for `models` tests:
//   GET /api/models/<org>/<name>/tree/<revision>[/<path>]?recursive=…  JSON listing (paginated with a
//       Link: rel="next" header), with `oid` (git blob id) and, for LFS files, `lfs: {oid: sha256, size}`
//   GET /<org>/<name>/resolve/<revision>/<path>  small files directly; LFS files: 302 to /lfs/<sha256>
//       (as the Hub redirects to its CDN), with X-Linked-Size / X-Linked-ETag
//   GET /lfs/<sha256>  the bytes, with Range support (206, Content-Range)
// Repositories are built from folders on disk; knobs make a download fail midway or serve wrong
// bytes, and every request is recorded for assertions.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

export interface HubFile { path: string; body: Buffer; lfs: boolean; sha256: string; gitOid: string }

export interface HubRepo { files: HubFile[] }

export interface HubServer {
  url: string;
  /** Every request: method, path (with query), Range header. */
  requests: Array<{ method: string; url: string; range?: string; auth?: string }>;
  /** Cut the connection after this many bytes the next time this repo path is downloaded. */
  cutAfter: Map<string, number>;
  /** Serve these repo paths with their last byte flipped (the listing keeps the true hashes). */
  corrupt: Set<string>;
  close(): Promise<void>;
}

const isLfs = (path: string) => /\.(onnx|onnx_data|bin|safetensors|pb)$/.test(path);

/** A repository from a folder: each file at `<prefix><its path>`, plus extra files. */
export async function repoFromFolder(dir: string, opts: { prefix?: string; extra?: Record<string, string | Buffer>; skip?: (path: string) => boolean } = {}): Promise<HubRepo> {
  const files: HubFile[] = [];
  const add = (path: string, body: Buffer) => files.push({
    path, body, lfs: isLfs(path),
    sha256: createHash('sha256').update(body).digest('hex'),
    gitOid: createHash('sha1').update(`blob ${body.length}\0`).update(body).digest('hex'),
  });
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const rel = relative(dir, join(e.parentPath, e.name)).split('\\').join('/');
    if (opts.skip?.(rel)) continue;
    add(`${opts.prefix ?? ''}${rel}`, await readFile(join(e.parentPath, e.name)));
  }
  for (const [path, body] of Object.entries(opts.extra ?? {})) add(path, Buffer.isBuffer(body) ? body : Buffer.from(body));
  return { files: files.sort((a, b) => a.path.localeCompare(b.path)) };
}

export async function startHubServer(repos: Record<string, HubRepo>, opts: { token?: string; pageSize?: number } = {}): Promise<HubServer> {
  const pageSize = opts.pageSize ?? 4;
  const requests: HubServer['requests'] = [];
  const cutAfter = new Map<string, number>();
  const corrupt = new Set<string>();

  const bodyOf = (f: HubFile) => {
    if (!corrupt.has(f.path)) return f.body;
    const b = Buffer.from(f.body);
    b[b.length - 1] ^= 0xff;
    return b;
  };

  const problem = (res: ServerResponse, status: number, message: string, code?: string) => {
    res.writeHead(status, { 'content-type': 'application/json', ...(code ? { 'x-error-code': code } : {}) }).end(JSON.stringify({ error: message }));
  };

  const sendBytes = (req: IncomingMessage, res: ServerResponse, f: HubFile, headers: Record<string, string>) => {
    const body = bodyOf(f);
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const end = m && m[2] ? Math.min(Number(m[2]), body.length - 1) : body.length - 1;
    if (m && start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    const slice = body.subarray(start, end + 1);
    res.writeHead(m ? 206 : 200, {
      ...headers, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream', 'content-length': String(slice.length),
      ...(m ? { 'content-range': `bytes ${start}-${end}/${body.length}` } : {}),
    });
    const cut = cutAfter.get(f.path);
    if (cut !== undefined && req.method === 'GET' && slice.length > 1 && cut < slice.length) {
      cutAfter.delete(f.path);
      res.write(slice.subarray(0, cut), () => res.destroy()); // the connection drops midway
      return;
    }
    res.end(req.method === 'HEAD' ? undefined : slice);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub.test');
    requests.push({ method: req.method ?? 'GET', url: url.pathname + url.search, range: req.headers.range, auth: req.headers.authorization });
    if (opts.token && !url.pathname.startsWith('/lfs/') && req.headers.authorization !== `Bearer ${opts.token}`) {
      return problem(res, 401, 'Invalid credentials in Authorization header');
    }
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);

    // /api/models/<org>/<name>/tree/<revision>[/<path>]
    if (segments[0] === 'api' && segments[1] === 'models' && segments[4] === 'tree') {
      const repo = repos[`${segments[2]}/${segments[3]}`];
      if (!repo) return problem(res, 404, 'Repository not found', 'RepoNotFound');
      if (segments[5] !== 'main') return problem(res, 404, `Invalid rev id: ${segments[5]}`, 'RevisionNotFound');
      const under = segments.slice(6).join('/');
      const recursive = url.searchParams.get('recursive') === 'true';
      const files = repo.files.filter((f) => (under ? f.path.startsWith(`${under}/`) : true))
        .filter((f) => recursive || !f.path.slice(under ? under.length + 1 : 0).includes('/'));
      const entries = files.map((f) => ({
        type: 'file', oid: f.gitOid, size: f.body.length, path: f.path,
        ...(f.lfs ? { lfs: { oid: f.sha256, size: f.body.length, pointerSize: 134 } } : {}),
      }));
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const page = entries.slice(cursor, cursor + pageSize);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cursor + pageSize < entries.length) {
        const next = new URL(url.href);
        next.searchParams.set('cursor', String(cursor + pageSize));
        headers.link = `<http://${req.headers.host}${next.pathname}${next.search}>; rel="next"`;
      }
      res.writeHead(200, headers).end(JSON.stringify(page));
      return;
    }
    // /<org>/<name>/resolve/<revision>/<path>
    if (segments[2] === 'resolve') {
      const repo = repos[`${segments[0]}/${segments[1]}`];
      if (!repo) return problem(res, 404, 'Repository not found', 'RepoNotFound');
      const path = segments.slice(4).join('/');
      const f = repo.files.find((x) => x.path === path);
      if (!f) return problem(res, 404, 'Entry not found', 'EntryNotFound');
      if (f.lfs) {
        res.writeHead(302, {
          // The signed CDN URL of the real Hub; here the query says which repository file it is.
          location: `/lfs/${f.sha256}?repo=${encodeURIComponent(`${segments[0]}/${segments[1]}`)}&path=${encodeURIComponent(f.path)}`, 'x-linked-size': String(f.body.length), 'x-linked-etag': `"${f.sha256}"`, etag: `"${f.gitOid}"`,
        }).end();
        return;
      }
      return sendBytes(req, res, f, { etag: `"${f.gitOid}"` });
    }
    if (segments[0] === 'lfs' && segments[1]) {
      const file = repos[url.searchParams.get('repo') ?? '']?.files.find((f) => f.path === url.searchParams.get('path') && f.sha256 === segments[1]);
      if (!file) return problem(res, 404, 'no such object');
      return sendBytes(req, res, file, { etag: `"${file.sha256}"` });
    }
    problem(res, 404, 'not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests, cutAfter, corrupt,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
