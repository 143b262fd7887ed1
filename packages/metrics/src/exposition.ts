// Serving a registry: the Prometheus text format, behind METRICS_TOKEN when one is set. Used by
// the API's Fastify route and, as a plain node:http handler, by the worker's health server.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** True when no token is configured, or the Authorization header is `Bearer <token>`. */
export function metricsAuthorized(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const m = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  // Compare digests in constant time: nothing leaks about the token.
  return m !== null && timingSafeEqual(digest(m[1]), digest(token));
}

export async function renderMetrics(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

export const METRICS_UNAUTHORIZED_PROBLEM = {
  type: 'https://sdsvc.dev/problems/unauthorized',
  title: 'Unauthorized',
  status: 401,
  detail: 'METRICS_TOKEN is set: send Authorization: Bearer <token>',
  code: 'unauthorized',
} as const;

/**
 * GET /metrics for a node:http server (the worker's health server): answers and returns true when
 * the request is for /metrics, else returns false and leaves the response alone.
 */
export function metricsRoute(registry: Registry, opts: { token?: string; path?: string } = {}) {
  const path = opts.path ?? '/metrics';
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if ((req.url ?? '').split('?')[0] !== path) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return true;
    }
    if (!metricsAuthorized(req.headers.authorization, opts.token)) {
      res.writeHead(401, { 'content-type': 'application/problem+json', 'www-authenticate': 'Bearer' })
        .end(JSON.stringify({ ...METRICS_UNAUTHORIZED_PROBLEM, instance: path }));
      return true;
    }
    const { contentType, body } = await renderMetrics(registry);
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
