// /healthz: the process answers. /readyz: Redis and storage answer in time, else 503.
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { HttpProblem } from '../problem.ts';

async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function healthRoutes(app: FastifyInstance, opts: { deps: AppDeps }): Promise<void> {
  const { redis, objectStore } = opts.deps;
  const ms = opts.deps.readyTimeoutMs ?? 2000;

  app.get('/healthz', { config: { auth: 'public' } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { auth: 'public' } }, async () => {
    const [r, s] = await Promise.allSettled([within(ms, redis.ping()), within(ms, objectStore.ping())]);
    const failed = [r.status === 'rejected' ? 'redis' : null, s.status === 'rejected' ? 'storage' : null].filter(Boolean);
    if (failed.length > 0) throw new HttpProblem(503, 'not_ready', `not reachable: ${failed.join(', ')}`);
    return { status: 'ready' };
  });
}
