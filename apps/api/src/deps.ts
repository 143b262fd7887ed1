// What the API needs from the outside world. Everything is injected so tests run the real parts
// (a private Redis, a temporary file store) and main/server wire the production ones.
import type { Redis } from 'ioredis';
import type { Config } from '@sdsvc/config';
import type { JobResource, WebhookEventType } from '@sdsvc/contracts';
import type { GenerateQueue, IdempotencyStore, JobStore } from '@sdsvc/jobs';
import type { Logger } from '@sdsvc/logging';
import type { ObjectStore } from '@sdsvc/storage';

export type ApiConfig = Pick<Config,
  'apiKeys' | 'maxBodyBytes' | 'maxImageBytes' | 'maxImagePixels' | 'imageFetchTimeoutMs' | 'allowPrivateUrls'
  | 'defaultModel' | 'modelsDir' | 'webhookSecret' | 'publicBaseUrl'>;

/** Fetches an image URL under the outbound rules; errors carry `code` (url_not_allowed, image_too_large, …). */
export type ImageFetcher = (url: string) => Promise<Buffer>;
/** Rejects (error with `code` url_not_allowed) when a webhook URL may not be called. */
export type UrlGuard = (url: string) => Promise<void>;

export interface WebhookNotifier { notify(job: JobResource, event: WebhookEventType): Promise<void> }

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
  /** Readiness probe timeout (default 2 s). */
  readyTimeoutMs?: number;
}
