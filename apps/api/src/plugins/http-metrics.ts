// Request duration of every route, labelled with the matched route pattern (routeOptions.url), never
// the raw URL: /v1/jobs/<uuid> is one series, and a scanner's random paths are one `(unmatched)`.
// fastify-plugin: the hook must see every route of the app; the registry is shared with /metrics
// through the `metricsRegistry` decoration.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { httpRequestDuration, newRegistry, UNMATCHED_ROUTE, type Registry } from '@sdsvc/metrics';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where this app's metrics go (the process registry in production, a fresh one in tests). */
    metricsRegistry: Registry;
  }
}

export const httpMetricsPlugin = fp(async (app: FastifyInstance, opts: { registry?: Registry }) => {
  const registry = opts.registry ?? newRegistry();
  app.decorate('metricsRegistry', registry);
  const duration = httpRequestDuration(registry);
  // Callback style (no promise per request): every response runs it.
  app.addHook('onResponse', (req, reply, done) => {
    duration.observe({
      method: req.method,
      route: req.routeOptions.url ?? UNMATCHED_ROUTE,
      status_code: String(reply.statusCode),
    }, reply.elapsedTime / 1000);
    done();
  });
}, { name: 'http-metrics' });
