// One HTTP(S) request under the URL rule (checked before, and again at connect time), with an
// overall deadline and a cap on the response body. Shared by image fetching and webhook delivery.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { assertPublicUrl, safeLookup, type UrlRuleOptions } from './assert-public-url.ts';
import { RequestTimeoutError } from './errors.ts';

export interface SafeRequestOptions extends UrlRuleOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Deadline for the whole exchange, connect to last body byte. */
  timeoutMs: number;
  /** Body bytes kept; past it, onTooLarge() decides (default: stop reading and truncate). */
  maxBodyBytes?: number;
  onTooLarge?: (maxBytes: number) => Error | undefined;
  signal?: AbortSignal;
}

export interface SafeResponse {
  url: URL;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** True when the body was cut at maxBodyBytes. */
  truncated: boolean;
}

export async function safeRequest(input: string | URL, opts: SafeRequestOptions): Promise<SafeResponse> {
  const { url } = await assertPublicUrl(input, opts);
  const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const maxBody = opts.maxBodyBytes ?? Infinity;

  return await new Promise<SafeResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, res?: SafeResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) { req.destroy(); reject(err); } else resolve(res!);
    };
    const timer = setTimeout(() => finish(new RequestTimeoutError(opts.timeoutMs)), opts.timeoutMs);
    const onAbort = () => finish(opts.signal!.reason instanceof Error ? opts.signal!.reason : new Error('aborted'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const req = requestFn(url, {
      method: opts.method ?? 'GET',
      headers: opts.headers,
      lookup: safeLookup(url.href, opts),
      agent: false, // a fresh connection each time: a pooled socket would skip the lookup check
    }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      const declared = Number(res.headers['content-length']);
      const tooLarge = () => {
        const err = opts.onTooLarge?.(maxBody);
        if (err) return finish(err);
        res.destroy();
        finish(null, { url, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated: true });
      };
      if (Number.isFinite(declared) && declared > maxBody) return tooLarge();
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        if (bytes + chunk.length > maxBody) {
          chunks.push(chunk.subarray(0, maxBody - bytes));
          return tooLarge();
        }
        bytes += chunk.length;
        chunks.push(chunk);
      });
      res.on('end', () => finish(null, { url, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated: false }));
      res.on('error', (err) => finish(err));
    });
    req.on('error', (err) => finish(err));
    req.end(opts.body);
  });
}
