// One call from startWorker: the job and engine metrics of this worker process, recorded in the
// process registry (served by the worker's health server, and by the API under ROLE=all).
import type { Config } from '@sdsvc/config';
import type { EngineHost } from '@sdsvc/engine';
import type { JobStore } from '@sdsvc/jobs';
import type { Logger } from '@sdsvc/logging';
import { processRegistry, workerMetrics, type Registry } from '@sdsvc/metrics';
import { instrumentEngine } from './engine-telemetry.ts';
import { instrumentJobStore } from './job-telemetry.ts';

export function attachWorkerMetrics(parts: {
  store: JobStore;
  engine: EngineHost;
  config: Pick<Config, 'executionProviders'>;
  logger?: Logger;
  registry?: Registry;
}): void {
  const metrics = workerMetrics(parts.registry ?? processRegistry());
  instrumentJobStore(parts.store, metrics, (err) => parts.logger?.debug({ err }, 'job metrics: record not readable'));
  instrumentEngine(parts.engine, metrics);
}
