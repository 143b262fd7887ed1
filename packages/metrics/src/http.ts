// HTTP server metrics. `route` is the matched route pattern (/v1/jobs/:id), never the raw URL, so
// the label set stays small whatever clients send.
import { Histogram, type Registry } from 'prom-client';
import { getOrCreate, METRIC_PREFIX } from './registry.ts';

export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type HttpLabels = 'method' | 'route' | 'status_code';

export function httpRequestDuration(registry: Registry): Histogram<HttpLabels> {
  const name = `${METRIC_PREFIX}http_request_duration_seconds`;
  return getOrCreate(registry, name, () => new Histogram<HttpLabels>({
    name,
    help: 'HTTP request duration by method, matched route pattern and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  }));
}

/** Label for requests that matched no route (404s): one value, whatever the URL. */
export const UNMATCHED_ROUTE = '(unmatched)';
