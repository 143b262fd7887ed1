// Signed, expiring URLs for the file store: sig = base64url(HMAC-SHA256(secret, "<key>\n<expires>")),
// expires in Unix seconds. The API verifies them before serving /v1/files/<key>.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signFileKey(secret: string, key: string, expires: number): string {
  return createHmac('sha256', secret).update(`${key}\n${expires}`).digest('base64url');
}

export type SignedUrlCheck = 'ok' | 'expired' | 'bad_signature';

export function checkFileSignature(secret: string, key: string, expires: string | number, sig: string, nowMs = Date.now()): SignedUrlCheck {
  const exp = typeof expires === 'number' ? expires : /^\d{1,15}$/.test(expires) ? Number(expires) : NaN;
  if (!Number.isSafeInteger(exp)) return 'bad_signature';
  const expected = Buffer.from(signFileKey(secret, key, exp));
  const given = Buffer.from(String(sig));
  // Length check first: timingSafeEqual needs equal lengths, and the length is not secret.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad_signature';
  if (exp * 1000 < nowMs) return 'expired';
  return 'ok';
}
