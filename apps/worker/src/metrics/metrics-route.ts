// GET /metrics on the worker's health server (WORKER_HEALTH_PORT): the process registry in the
// Prometheus text format, behind METRICS_TOKEN when set. Pass it as the health server's `routes`.
import type { FastifyInstance } from 'fastify';
import { metricsAuthorized, METRICS_UNAUTHORIZED_PROBLEM, processRegistry, renderMetrics, type Registry } from '@sdsvc/metrics';

export function workerMetricsRoutes(opts: { token?: string; registry?: Registry } = {}) {
  const registry = opts.registry ?? processRegistry();
  return (app: FastifyInstance): void => {
    app.get('/metrics', async (req, reply) => {
      if (!metricsAuthorized(req.headers.authorization, opts.token)) {
        return reply.code(401).header('www-authenticate', 'Bearer').type('application/problem+json')
          .send({ ...METRICS_UNAUTHORIZED_PROBLEM, instance: '/metrics' });
      }
      const { contentType, body } = await renderMetrics(registry);
      return reply.header('cache-control', 'no-store').type(contentType).send(body);
    });
  };
}
