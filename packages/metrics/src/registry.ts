// Registries. Every process has one (processRegistry) shared by whatever runs in it, so ROLE=all
// exposes API and worker metrics together; tests make their own (newRegistry) so that several
// apps in one test process never collide on a metric name.
import { collectDefaultMetrics, Registry } from 'prom-client';

export { Registry } from 'prom-client';

/** Prefix of every metric name this service defines. */
export const METRIC_PREFIX = 'sdsvc_';

export function newRegistry(opts: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  // Node's own metrics (CPU, memory, event-loop lag, GC), with our prefix.
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}

let shared: Registry | undefined;

/** The registry of this process (created on first use, with Node process metrics). */
export function processRegistry(): Registry {
  shared ??= newRegistry({ processMetrics: true });
  return shared;
}

/** A metric of this registry by name, created by `make` the first time (idempotent definitions). */
export function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
