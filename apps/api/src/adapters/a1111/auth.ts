// Who may call /sdapi/v1/*. The routes are marked `auth: 'self'` (see plugins/auth.ts): the auth
// plugin identifies a valid API key (Bearer, or the password of HTTP Basic) and leaves the rest
// to this hook, which also accepts A1111_API_AUTH credentials (HTTP Basic user:pass, as A1111's
// --api-auth) and answers everyone else 401 with `WWW-Authenticate: Basic`, as A1111 does.
// Open when neither API keys nor A1111_API_AUTH are configured.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpProblem } from '@sdsvc/contracts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export interface A1111AuthOptions {
  /** Whether API keys are configured (then a request without a valid key or Basic credentials is refused). */
  keysEnabled: () => boolean;
  basic: ReadonlyArray<{ user: string; password: string }>;
}

export function makeA1111Auth(opts: A1111AuthOptions): (req: FastifyRequest) => Promise<void> {
  const basic = opts.basic.map((c) => ({
    user: digest(c.user), password: digest(c.password),
    // Each Basic user is its own caller (job owner, options, progress).
    id: digest(`a1111-basic:${c.user}`).toString('hex').slice(0, 16),
  }));

  return async (req) => {
    if (req.callerId) return; // the auth plugin accepted an API key
    const header = req.headers.authorization?.trim() ?? '';
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    if (m && basic.length > 0) {
      const decoded = Buffer.from(m[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        const user = digest(decoded.slice(0, colon)), password = digest(decoded.slice(colon + 1));
        const match = basic.find((c) => timingSafeEqual(c.user, user) && timingSafeEqual(c.password, password));
        if (match) { req.callerId = match.id; return; }
      }
    }
    if (basic.length === 0 && !opts.keysEnabled()) return; // nothing configured: open
    throw new HttpProblem(401, 'unauthorized', header === '' ? 'Not authenticated' : 'Incorrect username or password', {
      headers: { 'www-authenticate': basic.length > 0 ? 'Basic' : 'Bearer' },
    });
  };
}
