// SAFETY_EXEMPT_KEYS: which callers may send `safety: false`. Entries are key names (API_KEYS_FILE
// names, as logs show them) or the keys themselves (API_KEYS entries, compared by digest, as the
// auth plugin identifies callers). Runs after auth, on the identity it established.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's key is listed in SAFETY_EXEMPT_KEYS. */
    safetyExempt: boolean;
  }
}

const callerIdOf = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

export const safetyExemptPlugin = fp(async (app: FastifyInstance, opts: { exemptKeys: readonly string[] }) => {
  const names = new Set(opts.exemptKeys);
  const callers = new Set(opts.exemptKeys.map(callerIdOf));
  app.decorateRequest('safetyExempt', false);
  if (names.size === 0) return;
  app.addHook('preHandler', async (req) => {
    req.safetyExempt = (req.keyName !== '' && names.has(req.keyName)) || (req.callerId !== '' && callers.has(req.callerId));
  });
}, { name: 'safety-exempt', dependencies: ['auth'] });
