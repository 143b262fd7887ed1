// Standard Webhooks secrets: `whsec_` + base64 of 24…64 random bytes (the spec's recommendation).
export function checkWebhookSecret(raw: string): string | undefined {
  if (!raw.startsWith('whsec_')) return 'expected the Standard Webhooks form whsec_<base64>';
  const b64 = raw.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return 'the part after whsec_ is not valid base64';
  const n = Buffer.from(b64, 'base64').length;
  if (n < 24 || n > 64) return `the secret decodes to ${n} bytes; use 24 to 64 random bytes`;
  return undefined;
}
