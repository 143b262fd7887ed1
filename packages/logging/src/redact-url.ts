// URLs in logs lose their query string values: presigned S3 URLs and our signed file URLs carry
// their credential there (X-Amz-Signature, sig), and webhook URLs often carry a token. The scheme,
// host and path stay, so a line still says where a request went; parameter names stay too.

/** `https://h/p?sig=abc&x=1` → `https://h/p?sig=[redacted]&x=[redacted]`; other strings unchanged. */
export function redactUrlQuery(value: string): string {
  const q = value.indexOf('?');
  if (q < 0) return value;
  const hash = value.indexOf('#', q);
  const query = value.slice(q + 1, hash < 0 ? undefined : hash);
  const names = query.split('&').filter((p) => p !== '').map((p) => {
    const eq = p.indexOf('=');
    return `${eq < 0 ? p : p.slice(0, eq)}=[redacted]`;
  });
  return `${value.slice(0, q)}?${names.join('&')}`;
}

/** Every URL with a query inside free text (error messages), redacted the same way. */
export function redactUrlsInText(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrlQuery(url));
}

/**
 * Text safe to show a client: URLs, absolute file paths and host:port endpoints replaced, so an
 * error from storage or the runtime cannot reveal bucket endpoints or the server's file layout.
 * The full text belongs in the log (with the request or job id), not in the answer.
 */
export function scrubInternals(text: string): string {
  return text
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]+/gi, '<url>')
    .replace(/(^|[\s"'(=:])(?:[A-Za-z]:\\|\/)(?:[^\s"'()]+)/g, '$1<path>')
    .replace(/\b(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\]|[a-z0-9-]+(?:\.[a-z0-9-]+)*):\d{2,5}\b/gi, '<host>')
    .slice(0, 500);
}
