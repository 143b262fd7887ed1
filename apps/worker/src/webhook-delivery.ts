// The webhook delivery worker of a worker process: sends what the dispatchers enqueued (API and
// generate worker) and records every attempt on the job resource.
import { Redis } from 'ioredis';
import type { Config } from '@sdsvc/config';
import { JobStore } from '@sdsvc/jobs';
import { withJobId, type Logger } from '@sdsvc/logging';
import { createObjectStore } from '@sdsvc/storage';
import { messageIdFor, startWebhookWorker, withFreshImageUrls } from '@sdsvc/webhooks';
import { countWebhookAttempt } from './metrics/webhook-telemetry.ts';

export interface RunningWebhookDelivery { close(): Promise<void> }

export async function startWebhookDelivery(opts: { config: Config; logger: Logger }): Promise<RunningWebhookDelivery | null> {
  const { config, logger } = opts;
  if (!config.webhookSecret) {
    logger.info('WEBHOOK_SECRET unset: no webhook delivery worker');
    return null;
  }
  const connection = new Redis(config.redisUrl!, { maxRetriesPerRequest: null });
  connection.on('error', (err) => logger.warn({ err }, 'redis connection error (webhooks)'));
  const store = new JobStore(connection, { prefix: config.queuePrefix, ttlSeconds: Math.ceil(config.resultTtlMs / 1000) });
  const objects = await createObjectStore(config);
  const delivery = startWebhookWorker({
    connection,
    prefix: config.queuePrefix,
    secret: config.webhookSecret,
    schedule: config.webhookRetrySchedule,
    timeoutMs: config.webhookTimeoutMs,
    allowPrivate: config.allowPrivateUrls,
    // A killed process's deliveries are taken over as fast as its generation jobs.
    lockDurationMs: config.workerLockDurationMs,
    stalledIntervalMs: config.workerStalledIntervalMs,
    // Image URLs are signed again at each attempt: a retry days later still carries working links.
    prepare: (msg) => withFreshImageUrls(msg, (key) => objects.url(key)),
    onAttempt: async (jobId, a) => {
      const ok = a.status !== null && a.status >= 200 && a.status < 300;
      countWebhookAttempt(a.event, a.status);
      withJobId(logger, jobId).info({ event: a.event, attempt: a.attempt, status: a.status, error: a.error ?? undefined }, 'webhook attempt');
      await store.addWebhookAttempt(jobId, {
        webhook_id: messageIdFor(jobId, a.event), event: a.event, attempt: a.attempt, at: a.at, status: a.status, ok,
        ...(a.error ? { error: a.error } : {}),
      });
    },
    onError: (err) => logger.warn({ err }, 'webhook delivery error'),
  });
  logger.info('webhook delivery worker started');
  return {
    async close() {
      await delivery.close({ graceMs: config.shutdownGraceMs }); // a slow receiver must not outlast the grace period
      await store.close();
      await objects.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
