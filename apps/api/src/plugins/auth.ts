// Bearer authentication when API_KEYS is set. /v1/files carries its own signature, and the
// health probes stay open for orchestrators.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpProblem } from '../problem.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

declare module 'fastify' {
  interface FastifyRequest {
    /** Short hash of the caller's key ('' without auth): scopes idempotency keys per caller. */
    callerId: string;
  }
}

export function bearerToken(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m ? m[1] : null;
}

export const authPlugin = fp(async (app: FastifyInstance, opts: { apiKeys: string[] }) => {
  const keys = opts.apiKeys.map(digest);
  app.decorateRequest('callerId', '');
  if (keys.length === 0) return;
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0];
    if (!path.startsWith('/v1/') || path.startsWith('/v1/files/')) return;
    const token = bearerToken(req);
    // Compare digests in constant time so the comparison leaks nothing about the keys.
    const d = token ? digest(token) : null;
    if (!d || !keys.some((k) => timingSafeEqual(k, d))) {
      throw new HttpProblem(401, 'unauthorized', 'a valid Authorization: Bearer <key> header is required', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    req.callerId = d.toString('hex').slice(0, 16);
  });
}, { name: 'auth' });
