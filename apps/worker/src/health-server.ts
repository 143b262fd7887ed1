// The worker's own HTTP port (WORKER_HEALTH_PORT): liveness and readiness for orchestrators and
// the image's HEALTHCHECK, which cannot see a worker otherwise (it serves no API). More routes
// (e.g. /metrics) can be added through `routes`.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '@sdsvc/logging';

/** What /readyz reports: ok, and one entry per check (e.g. redis, engine) saying why not. */
export interface WorkerReadiness { ok: boolean; detail: Record<string, unknown> }

export interface HealthServerOptions {
  port: number;
  /** Default 0.0.0.0: probes come from outside the container. */
  host?: string;
  /** Readiness of the worker (Redis reachable, engine alive with its default model loaded). */
  ready(): Promise<WorkerReadiness>;
  /** A readiness check that takes longer counts as not ready (default 2 s). */
  readyTimeoutMs?: number;
  logger?: Logger;
  /** Extra routes on the same server. */
  routes?: (app: FastifyInstance) => void | Promise<void>;
}

export interface RunningHealthServer {
  app: FastifyInstance;
  /** The port actually bound (WORKER_HEALTH_PORT=0 picks a free one). */
  port: number;
  /** From now on /readyz answers 503 (shutting down); /healthz keeps answering. */
  markStopping(): void;
  close(): Promise<void>;
}

async function within(ms: number, check: () => Promise<WorkerReadiness>): Promise<WorkerReadiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<WorkerReadiness>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: { error: `readiness check took more than ${ms} ms` } }), ms);
  });
  try {
    return await Promise.race([check().catch((err: unknown) => ({ ok: false, detail: { error: (err as Error).message } })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startHealthServer(opts: HealthServerOptions): Promise<RunningHealthServer> {
  const app = Fastify({ logger: false });
  let stopping = false;
  const notReady = (detail: Record<string, unknown>) => ({
    type: 'https://sdsvc.dev/problems/not_ready', title: 'Service Unavailable', status: 503,
    detail: 'the worker is not ready', code: 'not_ready', checks: detail,
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const state = stopping ? { ok: false, detail: { stopping: true } } : await within(opts.readyTimeoutMs ?? 2000, opts.ready);
    if (state.ok) return { status: 'ready', checks: state.detail };
    return reply.code(503).type('application/problem+json').send(notReady(state.detail));
  });
  await opts.routes?.(app);

  await app.listen({ port: opts.port, host: opts.host ?? '0.0.0.0' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  opts.logger?.info({ port }, 'worker health server listening (GET /healthz, GET /readyz)');
  return {
    app,
    port,
    markStopping() { stopping = true; },
    async close() { await app.close(); },
  };
}
