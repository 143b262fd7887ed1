// What the submission service needs from the outside world, injected so tests run the real parts
// (a private Redis, a temporary file store) and the API process wires the production ones.
import type { Redis } from 'ioredis';
import type { Config } from '@sdsvc/config';
import type { JobResource, WebhookEventType } from '@sdsvc/contracts';
import type { GenerateQueue, IdempotencyStore, JobStore } from '@sdsvc/jobs';
import type { Logger } from '@sdsvc/logging';
import type { PromptPolicy } from '@sdsvc/safety';
import type { ObjectStore } from '@sdsvc/storage';
import type { LoraLibrary, LoraUrlCache } from '@sdsvc/lora';
import type { ModelCatalog } from './model-catalog.ts';

export type SubmissionConfig = Pick<Config,
  'maxImageBytes' | 'maxImagePixels' | 'allowPrivateUrls' | 'defaultModel' | 'webhookSecret' | 'maxAnimationFrames'>
  // QUEUE_WITHOUT_WORKERS (absent = false: a model no live worker holds answers 503).
  & Partial<Pick<Config, 'queueWithoutWorkers'>>
  // Cost limits and quota (limits.ts); absent ones take their defaults.
  & Partial<Pick<Config, 'maxOutputPixels' | 'maxSteps' | 'maxNumImages' | 'modelLimits' | 'maxActiveJobsPerKey'>>
  & Partial<Pick<Config, 'maxLorasPerJob'>>;

/** Fetches an image URL under the outbound rules; errors carry `code` (url_not_allowed, image_too_large, …). */
export type ImageFetcher = (url: string) => Promise<Buffer>;
/** Rejects (error with `code` url_not_allowed) when a webhook URL may not be called. */
export type UrlGuard = (url: string) => Promise<void>;

/** The job's event is in the webhook outbox: get it out (the API kicks its outbox drain). */
export interface WebhookNotifier { notify(job: JobResource, event: WebhookEventType): Promise<void> }

/** What the service logs with: the app's logger, or a request's child logger (request_id). */
export type JobLog = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface SubmissionDeps {
  config: SubmissionConfig;
  store: JobStore;
  queue: GenerateQueue;
  idempotency: IdempotencyStore;
  objectStore: ObjectStore;
  catalog: ModelCatalog;
  logger: Logger;
  fetchImage: ImageFetcher;
  checkWebhookUrl: UrlGuard;
  webhooks?: WebhookNotifier;
  /** Command connection for the active-job quota (limits.ts); without it the quota is not enforced. */
  redis?: Redis;
  /** PROMPT_BLOCKLIST_FILE, loaded; none = no prompt policy. */
  promptPolicy?: PromptPolicy;
  /** LORA_DIR's adapters; none = jobs naming a LoRA get unknown_lora. */
  loras?: LoraLibrary;
  /** LoRAs by URL (ALLOW_LORA_URLS); none = such jobs get url_not_allowed. */
  loraUrls?: LoraUrlCache;
}
