// Typed outbound-URL errors; `code` is what the API and worker report.
export class UrlNotAllowedError extends Error {
  readonly code = 'url_not_allowed';
  readonly url: string;
  constructor(url: string, reason: string) {
    super(`URL not allowed (${reason}): ${url}`);
    this.name = 'UrlNotAllowedError';
    this.url = url;
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
