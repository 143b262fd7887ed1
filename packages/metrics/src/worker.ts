// The worker's metrics: what its jobs wait and take, what the engine does, what webhooks get.
// Definitions only; apps/worker/src/metrics/ feeds them from the worker's events.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { getOrCreate, METRIC_PREFIX } from './registry.ts';

/** Seconds: queue waits and job runs go from milliseconds (tiny models) to many minutes. */
export const JOB_SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800];
/** Seconds per denoising step: ~1 ms (tiny model, CPU) to seconds (SD at 1024 px on CPU). */
export const STEP_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const MODEL_LOAD_SECONDS_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];

export interface WorkerMetrics {
  /** created_at → started_at of each job this worker started. */
  jobWait: Histogram<'type' | 'model'>;
  /** started_at → finished_at, by outcome (succeeded, failed, canceled). */
  jobRun: Histogram<'type' | 'model' | 'outcome'>;
  denoiseStep: Histogram<'model'>;
  imagesGenerated: Counter<'type' | 'model'>;
  /** Jobs that ended failed, by the job resource's error.code. */
  jobsFailed: Counter<'code'>;
  /** Webhook delivery attempts by event and outcome (success, http_error, network_error). */
  webhookAttempts: Counter<'event' | 'outcome'>;
  modelLoad: Histogram<'model'>;
  /** 1 for each model whose sessions this worker holds. */
  residentModels: Gauge<'model'>;
  /** 1 for the ONNX Runtime execution provider in use. */
  executionProvider: Gauge<'provider'>;
  /** Jobs per engine call when cross-request batching is on (BATCH_MAX_JOBS > 1). */
  batchJobs: Histogram<'model'>;
}

export function workerMetrics(registry: Registry): WorkerMetrics {
  const n = (s: string) => `${METRIC_PREFIX}${s}`;
  const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
    getOrCreate(registry, n(name), () => new Histogram<L>({ name: n(name), help, labelNames, buckets, registers: [registry] }));
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    getOrCreate(registry, n(name), () => new Counter<L>({ name: n(name), help, labelNames, registers: [registry] }));
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]) =>
    getOrCreate(registry, n(name), () => new Gauge<L>({ name: n(name), help, labelNames, registers: [registry] }));
  return {
    jobWait: histogram('job_wait_seconds', 'Time a job waited in the queue before a worker started it', ['type', 'model'], JOB_SECONDS_BUCKETS),
    jobRun: histogram('job_run_seconds', 'Time from a job\'s start to its end on a worker', ['type', 'model', 'outcome'], JOB_SECONDS_BUCKETS),
    denoiseStep: histogram('denoise_step_seconds', 'Time of one denoising step (one UNet evaluation round)', ['model'], STEP_SECONDS_BUCKETS),
    imagesGenerated: counter('images_generated_total', 'Images generated and stored', ['type', 'model']),
    jobsFailed: counter('jobs_failed_total', 'Jobs that ended failed, by error code', ['code']),
    webhookAttempts: counter('webhook_attempts_total', 'Webhook delivery attempts by event and outcome', ['event', 'outcome']),
    modelLoad: histogram('model_load_seconds', 'Time to load and warm a model\'s ONNX sessions', ['model'], MODEL_LOAD_SECONDS_BUCKETS),
    residentModels: gauge('resident_models', 'Models loaded in this worker (1 per model)', ['model']),
    batchJobs: histogram('batch_jobs', 'Jobs denoised together in one engine call (BATCH_MAX_JOBS > 1)', ['model'], [1, 2, 3, 4, 6, 8, 12, 16, 32, 64]),
    executionProvider: gauge('execution_provider', 'ONNX Runtime execution providers the loaded graphs run on (1 for each in use)', ['provider']),
  };
}

/** Outcome label of a webhook attempt: success (2xx), http_error (other status), network_error (no answer). */
export function webhookOutcome(status: number | null): 'success' | 'http_error' | 'network_error' {
  if (status === null) return 'network_error';
  return status >= 200 && status < 300 ? 'success' : 'http_error';
}
