// GET /metrics: Prometheus text format of the process registry (the worker's metrics too under
// ROLE=all), with the queue depth read from Redis at scrape time. METRICS_TOKEN guards it when set.
import type { FastifyInstance } from 'fastify';
import { metricsAuthorized, registerQueueDepth, renderMetrics, type QueueCountsSources, type Registry } from '@sdsvc/metrics';
import { HttpProblem } from '../problem.ts';

export interface MetricsRouteOptions {
  registry: Registry;
  token: string | undefined;
  /** The queues whose depth is exported (computed per scrape: one generate queue per model). */
  queues: QueueCountsSources;
  /** Deadline of one queue's counts (default 1 s): a Redis outage must not hang the scrape. */
  queueTimeoutMs?: number;
}

export async function metricsRoutes(app: FastifyInstance, opts: MetricsRouteOptions): Promise<void> {
  registerQueueDepth(opts.registry, opts.queues, { timeoutMs: opts.queueTimeoutMs ?? 1000 });
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (!metricsAuthorized(req.headers.authorization, opts.token)) {
      throw new HttpProblem(401, 'unauthorized', 'METRICS_TOKEN is set: send Authorization: Bearer <token>', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    const { contentType, body } = await renderMetrics(opts.registry);
    return reply.header('cache-control', 'no-store').type(contentType).send(body);
  });
}
