// Queue depth by state, read from Redis when Prometheus scrapes. Each source is asked with a
// deadline: during a Redis outage /metrics still answers at once (that queue's depth left out and
// sdsvc_queue_up 0) instead of hanging the scrape.
import { Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from './registry.ts';

export interface QueueCountsSource {
  /** Queue name, the `queue` label (generate, webhooks). */
  name: string;
  /** Job counts by state (BullMQ's getJobCounts: waiting, active, delayed, prioritized, failed, …). */
  counts(): Promise<Record<string, number>>;
}

export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type Reading = Map<string, Record<string, number> | null>;

/** The queues to count: a fixed list, or one computed at each scrape (one queue per model: models come and go). */
export type QueueCountsSources = QueueCountsSource[] | (() => Promise<QueueCountsSource[]>);

export function registerQueueDepth(registry: Registry, sources: QueueCountsSources, opts: { timeoutMs?: number } = {}): void {
  const timeoutMs = opts.timeoutMs ?? 1000;
  const depthName = `${METRIC_PREFIX}queue_jobs`;
  if (registry.getSingleMetric(depthName)) return; // ROLE=all: the API registered it already

  // Both gauges are collected in the same scrape and share one reading: the first collect starts
  // it, the second takes it and clears it for the next scrape.
  let pending: Promise<Reading> | undefined;
  const read = (): Promise<Reading> => {
    if (pending) {
      const taken = pending;
      pending = undefined;
      return taken;
    }
    pending = (async () => {
      const reading: Reading = new Map();
      const list = typeof sources === 'function'
        ? await withDeadline(sources(), timeoutMs, 'queue list').catch((): QueueCountsSource[] => [])
        : sources;
      await Promise.all(list.map(async (s) => {
        reading.set(s.name, await withDeadline(s.counts(), timeoutMs, `queue ${s.name} counts`).catch(() => null));
      }));
      return reading;
    })();
    return pending;
  };

  new Gauge<'queue' | 'state'>({
    name: depthName,
    help: 'Jobs in each queue by state (waiting, prioritized, active, delayed, failed, completed, paused)',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset(); // a queue that cannot be read this time shows nothing rather than stale numbers
      for (const [queue, counts] of await read()) {
        for (const [state, n] of Object.entries(counts ?? {})) this.set({ queue, state }, n);
      }
    },
  });
  new Gauge<'queue'>({
    name: `${METRIC_PREFIX}queue_up`,
    help: 'Whether the queue\'s job counts could be read in time at this scrape (0: Redis down or slow)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [queue, counts] of await read()) this.set({ queue }, counts ? 1 : 0);
    },
  });
}
