// Typed outbound-URL errors; `code` is what the API and worker report.
export class UrlNotAllowedError extends Error {
  readonly code = 'url_not_allowed';
  readonly url: string;
  /** The refused address, for logs only. */
  readonly address: string | undefined;
  constructor(url: string, reason: string, address?: string) {
    super(`URL not allowed (${reason}): ${withoutQuery(url)}`);
    this.name = 'UrlNotAllowedError';
    this.url = url;
    this.address = address;
  }
}

/** A URL as messages quote it: no query string or credentials (tokens live there). */
export function withoutQuery(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return url.split(/[?#]/)[0].slice(0, 200);
  }
}

/** A short, stable reason for a network failure: no addresses, ports or TLS certificate names. */
export function networkReason(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  switch (code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': case 'EPIPE': return 'connection reset';
    case 'ETIMEDOUT': case 'ESOCKETTIMEDOUT': return 'connection timed out';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'host unreachable';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'host not found';
    default:
      if (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('ERR_SSL'))) return 'TLS error';
      if (typeof code === 'string' && code.startsWith('HPE_')) return 'invalid HTTP response';
      return 'network error';
  }
}

/** DNS gave no answer: usually transient for webhooks (retry), a bad URL for images. */
export class HostLookupError extends Error {
  readonly code = 'host_lookup_failed';
  constructor(host: string, options?: { cause?: unknown }) {
    super(`could not resolve host "${host}"`, options);
    this.name = 'HostLookupError';
  }
}

export class ImageFetchError extends Error {
  readonly code = 'image_fetch_failed';
  readonly status: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options);
    this.name = 'ImageFetchError';
    this.status = options?.status;
  }
}

export class ImageTooLargeError extends Error {
  readonly code = 'image_too_large';
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super(`image is larger than ${maxBytes} bytes`);
    this.name = 'ImageTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/** The request did not finish within its time limit. */
export class RequestTimeoutError extends Error {
  readonly code = 'timeout';
  constructor(timeoutMs: number) {
    super(`no complete response within ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
  }
}
