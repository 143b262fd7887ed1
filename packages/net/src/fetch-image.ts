// Fetches an input image from a user-supplied URL: https only (http only when private URLs are
// allowed, for tests), each redirect re-checked, a byte cap and a deadline.
import { HostLookupError, ImageFetchError, ImageTooLargeError, networkReason, RequestTimeoutError, UrlNotAllowedError } from './errors.ts';
import { safeRequest } from './safe-request.ts';
import type { ResolveAll } from './assert-public-url.ts';

export interface FetchImageOptions {
  maxBytes: number;
  timeoutMs: number;
  allowPrivate?: boolean;
  maxRedirects?: number;
  resolve?: ResolveAll;
  signal?: AbortSignal;
}

export interface FetchedImage {
  body: Buffer;
  contentType: string | undefined;
  /** The URL finally fetched, after redirects. */
  url: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function fetchImage(input: string, opts: FetchImageOptions): Promise<FetchedImage> {
  const protocols = opts.allowPrivate ? ['https:', 'http:'] : ['https:'];
  const maxRedirects = opts.maxRedirects ?? 3;
  const deadline = Date.now() + opts.timeoutMs;
  let current = input;
  for (let hop = 0; ; hop++) {
    let res;
    try {
      res = await safeRequest(current, {
        allowPrivate: opts.allowPrivate, protocols, resolve: opts.resolve, signal: opts.signal,
        timeoutMs: Math.max(1, deadline - Date.now()),
        headers: { accept: 'image/*', 'user-agent': 'sdsvc-image-fetch' },
        maxBodyBytes: opts.maxBytes,
        onTooLarge: (max) => new ImageTooLargeError(max),
      });
    } catch (err) {
      if (err instanceof UrlNotAllowedError || err instanceof ImageTooLargeError) throw err;
      if (err instanceof RequestTimeoutError) throw new ImageFetchError(`image URL timed out after ${opts.timeoutMs} ms`, { cause: err });
      if (err instanceof HostLookupError) throw new ImageFetchError(err.message, { cause: err });
      throw new ImageFetchError(`image URL could not be fetched (${networkReason(err)})`, { cause: err });
    }
    if (REDIRECTS.has(res.status)) {
      const location = res.headers.location;
      if (!location) throw new ImageFetchError(`redirect ${res.status} without Location`, { status: res.status });
      if (hop >= maxRedirects) throw new ImageFetchError(`more than ${maxRedirects} redirects`, { status: res.status });
      current = new URL(location, res.url).href;
      continue;
    }
    if (res.status < 200 || res.status > 299) {
      throw new ImageFetchError(`image URL answered HTTP ${res.status}`, { status: res.status });
    }
    return { body: res.body, contentType: res.headers['content-type'], url: res.url.href };
  }
}
