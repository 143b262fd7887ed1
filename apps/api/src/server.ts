// startApi(config): wires the production parts (Redis, BullMQ, object store, webhook queue, outbound
// URL rules) into the app and listens. main.ts (process entry) calls it.
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import type { Config } from '@sdsvc/config';
import { GenerateQueue, IdempotencyStore, JobStore } from '@sdsvc/jobs';
import { createLogger, type Logger } from '@sdsvc/logging';
import { processRegistry } from '@sdsvc/metrics';
import { assertPublicUrl, fetchImage } from '@sdsvc/net';
import { createObjectStore } from '@sdsvc/storage';
import { WebhookDispatcher } from '@sdsvc/webhooks';
import { buildApp } from './app.ts';

export interface RunningApi {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 */
  address: string;
  close(): Promise<void>;
}

export async function startApi(config: Config, opts: { logger?: Logger } = {}): Promise<RunningApi> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel, name: 'sdsvc-api' });
  if (!config.redisUrl) throw new Error('startApi needs config.redisUrl (main.ts resolves or starts a Redis)');
  // BullMQ wants maxRetriesPerRequest: null on connections it may block on; harmless for commands.
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const store = new JobStore(redis, { prefix: config.queuePrefix });
  const queue = new GenerateQueue(redis, { prefix: config.queuePrefix, attempts: config.jobAttempts,
    onError: (err) => logger.warn({ err: err.message }, 'generate queue connection error') });
  const idempotency = new IdempotencyStore(redis, { prefix: config.queuePrefix });
  const objectStore = await createObjectStore(config);
  const dispatcher = config.webhookSecret
    ? new WebhookDispatcher({ connection: redis, prefix: config.queuePrefix, schedule: config.webhookRetrySchedule })
    : null;

  const app = await buildApp({
    config, redis, store, queue, idempotency, objectStore, logger,
    metricsRegistry: processRegistry(), // shared with the worker under ROLE=all: one /metrics shows both
    fetchImage: async (url) => (await fetchImage(url, {
      maxBytes: config.maxImageBytes, timeoutMs: config.imageFetchTimeoutMs, allowPrivate: config.allowPrivateUrls,
    })).body,
    checkWebhookUrl: async (url) => {
      await assertPublicUrl(url, { allowPrivate: config.allowPrivateUrls, protocols: config.allowPrivateUrls ? ['https:', 'http:'] : ['https:'] });
    },
    webhooks: dispatcher ? { notify: async (job, event) => { await dispatcher.notify(job, event, job); } } : undefined,
  });
  const address = await app.listen({ port: config.port, host: config.host });
  logger.info({ address }, 'api listening');
  logger.info({ playground: `${config.publicBaseUrl}/`, docs: `${config.publicBaseUrl}/docs` },
    `playground: ${config.publicBaseUrl}/  API docs: ${config.publicBaseUrl}/docs`);

  return {
    app,
    address,
    async close() {
      await app.close(); // stops accepting, waits for in-flight requests
      await store.close();
      await queue.close();
      await dispatcher?.close();
      await objectStore.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
