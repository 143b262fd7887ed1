export { getOrCreate, METRIC_PREFIX, newRegistry, processRegistry, Registry } from './registry.ts';
export { httpRequestDuration, HTTP_DURATION_BUCKETS, UNMATCHED_ROUTE, type HttpLabels } from './http.ts';
export { registerQueueDepth, withDeadline, type QueueCountsSource, type QueueCountsSources } from './queue-depth.ts';
export { webhookOutcome, workerMetrics, type WorkerMetrics } from './worker.ts';
export { metricsAuthorized, metricsRoute, METRICS_UNAUTHORIZED_PROBLEM, renderMetrics } from './exposition.ts';
