// What the API needs from the outside world. Everything is injected so tests run the real parts
// (a private Redis, a temporary file store) and main/server wire the production ones.
import type { Redis } from 'ioredis';
import type { Config } from '@sdsvc/config';
import type { GenerateQueue, IdempotencyStore, JobStore } from '@sdsvc/jobs';
import type { Logger } from '@sdsvc/logging';
import type { UnderPressureOptions } from './plugins/under-pressure.ts';
import type { Registry } from '@sdsvc/metrics';
import type { ObjectStore } from '@sdsvc/storage';
import type { ImageFetcher, UrlGuard, WebhookNotifier } from '@sdsvc/submission';

export type { ImageFetcher, UrlGuard, WebhookNotifier } from '@sdsvc/submission';

export type ApiConfig = Pick<Config,
  'apiKeys' | 'maxBodyBytes' | 'maxImageBytes' | 'maxImagePixels' | 'imageFetchTimeoutMs' | 'allowPrivateUrls'
  | 'defaultModel' | 'modelsDir' | 'webhookSecret' | 'publicBaseUrl' | 'promptBlocklistFile' | 'safetyExemptKeys' | 'maxAnimationFrames'>
  & Partial<Pick<Config, 'metricsToken' | 'adminToken'>>
  // Security (plugins/auth.ts, rate-limit.ts; limits in @sdsvc/submission): absent = off / defaults.
  & Partial<Pick<Config, 'apiKeysFile' | 'adminApiKeys' | 'rateLimitPerMinute' | 'maxActiveJobsPerKey'
    | 'maxOutputPixels' | 'maxSteps' | 'maxNumImages' | 'modelLimits' | 'jobTimeoutMs'>>
  & Partial<Pick<Config, 'queuePrefix' | 'openaiModelMap' | 'openaiWaitTimeoutS' | 'a1111Api' | 'a1111ApiAuth' | 'queueWithoutWorkers'>>
  & Partial<Pick<Config, 'loraDir' | 'maxLorasPerJob' | 'allowLoraUrls' | 'maxLoraBytes' | 'loraCacheDir'>>;

export interface AppDeps {
  config: ApiConfig;
  /** Command connection (job records, idempotency, readiness). */
  redis: Redis;
  store: JobStore;
  queue: GenerateQueue;
  idempotency: IdempotencyStore;
  objectStore: ObjectStore;
  logger: Logger;
  fetchImage: ImageFetcher;
  checkWebhookUrl: UrlGuard;
  webhooks?: WebhookNotifier;
  /** SSE keep-alive comment interval (default 15 s). */
  sseHeartbeatMs?: number;
  /** Metrics registry (server.ts: the process one, shared with a worker under ROLE=all); default a new one. */
  metricsRegistry?: Registry;
  /** Readiness probe timeout (default 2 s). */
  readyTimeoutMs?: number;
  /** RATE_LIMIT_PER_MINUTE's window (default 60 s; tests shorten it). */
  rateLimitWindowMs?: number;
  /** How often the worker registry is re-read (default 1 s). */
  workerRefreshMs?: number;
  /** Overload thresholds (plugins/under-pressure.ts defaults when absent). */
  underPressure?: UnderPressureOptions;
}
