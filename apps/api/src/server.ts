// startApi(config): wires the production parts (Redis, BullMQ, object store, webhook queue, outbound
// URL rules) into the app and listens. main.ts (process entry) calls it.
import type { FastifyInstance } from 'fastify';
import type { Config } from '@sdsvc/config';
import { buildJobResource, GenerateQueue, IdempotencyStore, JobStore, quitRedis, waitForRedisReady } from '@sdsvc/jobs';
import { createLogger, type Logger } from '@sdsvc/logging';
import { processRegistry } from '@sdsvc/metrics';
import { assertPublicUrl, fetchImage } from '@sdsvc/net';
import { createObjectStore } from '@sdsvc/storage';
import { startOutboxDrain, WebhookDispatcher } from '@sdsvc/webhooks';
import { buildApp } from './app.ts';
import { createDeadlineRedis } from './redis-deadline.ts';

export interface RunningApi {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 */
  address: string;
  close(): Promise<void>;
}

export async function startApi(config: Config, opts: { logger?: Logger } = {}): Promise<RunningApi> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel, name: 'sdsvc-api' });
  if (!config.redisUrl) throw new Error('startApi needs config.redisUrl (main.ts resolves or starts a Redis)');
  // Fail fast: while Redis is down every command is refused at once (the API answers 503), and
  // the connection keeps reconnecting. The BullMQ Queue below only adds jobs (no blocking
  // commands), so it shares this connection. Its command timeout is kept by one watchdog rather than
  // a timer per command (redis-deadline.ts).
  const redis = createDeadlineRedis(config.redisUrl);
  let redisDown = false; // one log line per outage, not one per reconnect attempt
  redis.on('error', (err) => {
    if (!redisDown) logger.warn({ err: err.message }, 'redis unreachable: requests answer 503 until it is back');
    redisDown = true;
  });
  redis.on('ready', () => {
    if (redisDown) logger.info('redis connection restored');
    redisDown = false;
  });
  if (!(await waitForRedisReady(redis, 5000))) logger.warn('redis not reachable yet: starting anyway (requests answer 503 until it is)');
  // shareParams: the API only reads a job's params, so polling a job parses them once.
  const store = new JobStore(redis, { prefix: config.queuePrefix, ttlSeconds: Math.ceil(config.resultTtlMs / 1000), shareParams: true }); // RESULT_TTL
  const queue = new GenerateQueue(redis, { prefix: config.queuePrefix, attempts: config.jobAttempts,
    onError: (err) => logger.warn({ err: err.message }, 'generate queue connection error') });
  const idempotency = new IdempotencyStore(redis, { prefix: config.queuePrefix });
  const objectStore = await createObjectStore(config);
  const dispatcher = config.webhookSecret
    ? new WebhookDispatcher({ connection: redis, prefix: config.queuePrefix, schedule: config.webhookRetrySchedule })
    : null;
  // The webhook outbox (written by the job scripts) is drained by every worker process, and here
  // too, so the job.canceled of a job canceled while queued leaves at once.
  const drain = dispatcher ? startOutboxDrain({
    redis, prefix: config.queuePrefix, dispatcher,
    render: (entry) => buildJobResource(entry.record, { urlFor: (key) => objectStore.url(key) }),
    onError: () => { /* retried on the next pass; Redis outages are logged above */ },
  }) : null;

  const app = await buildApp({
    config, redis, store, queue, idempotency, objectStore, logger,
    metricsRegistry: processRegistry(), // shared with the worker under ROLE=all: one /metrics shows both
    fetchImage: async (url) => (await fetchImage(url, {
      maxBytes: config.maxImageBytes, timeoutMs: config.imageFetchTimeoutMs, allowPrivate: config.allowPrivateUrls,
    })).body,
    checkWebhookUrl: async (url) => {
      await assertPublicUrl(url, { allowPrivate: config.allowPrivateUrls, protocols: config.allowPrivateUrls ? ['https:', 'http:'] : ['https:'] });
    },
    webhooks: drain ? { notify: async () => { drain.kick(); } } : undefined,
  });
  // Answers finished while the app closes (released Prefer: wait requests, requests in flight)
  // close their connection: Node closes idle keep-alive connections only once, when closing
  // starts, and would otherwise wait for the keep-alive timeout.
  let closing = false;
  app.addHook('preClose', async () => { closing = true; });
  // Callback style: every response runs it (an async hook costs a promise per response).
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  const address = await app.listen({ port: config.port, host: config.host });
  logger.info({ address }, 'api listening');
  logger.info({ playground: `${config.publicBaseUrl}/`, docs: `${config.publicBaseUrl}/docs` },
    `playground: ${config.publicBaseUrl}/  API docs: ${config.publicBaseUrl}/docs`);

  return {
    app,
    address,
    async close() {
      // Stops accepting, ends SSE streams and Prefer: wait requests (events plugin), then waits for
      // the requests in flight; each of those fails fast when Redis is down.
      await app.close();
      // Bounded steps: with Redis down a QUIT would otherwise wait for a reconnect.
      await bounded(store.close(), 2000);
      await bounded(queue.close(), 2000);
      await bounded(drain?.close(), 2000);
      await bounded(dispatcher?.close(), 2000);
      await bounded(objectStore.close(), 2000);
      await quitRedis(redis, 1000);
    },
  };
}

/** Waits for `p` at most `ms` (errors are swallowed: closing carries on with the next part). */
async function bounded(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.resolve(p).catch(() => {}),
    new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); }),
  ]);
  clearTimeout(timer);
}
