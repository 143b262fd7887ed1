// Job lifecycle → webhook: reads the record as it stands, builds the public job resource (with
// fresh image URLs) and hands it to the webhook delivery queue. Delivery has its own retries, so
// a failure here is logged and never fails the job.
import type { Redis } from 'ioredis';
import type { Config } from '@sdsvc/config';
import type { WebhookEventType } from '@sdsvc/contracts';
import { buildJobResource, type JobStore } from '@sdsvc/jobs';
import { withJobId, type Logger } from '@sdsvc/logging';
import type { ObjectStore } from '@sdsvc/storage';
import { WebhookDispatcher } from '@sdsvc/webhooks';

export interface JobNotifier {
  notify(jobId: string, event: WebhookEventType): Promise<void>;
  close(): Promise<void>;
}

export interface WebhookNotifierDeps {
  config: Config;
  connection: Redis;
  store: JobStore;
  objects: ObjectStore;
  logger: Logger;
}

export function createWebhookNotifier(deps: WebhookNotifierDeps): JobNotifier {
  // Same queue prefix and schedule as the API's dispatcher: one webhook queue per deployment.
  const dispatcher = new WebhookDispatcher({
    connection: deps.connection, prefix: deps.config.queuePrefix, schedule: deps.config.webhookRetrySchedule,
  });
  return {
    async notify(jobId, event) {
      try {
        const record = await deps.store.get(jobId);
        if (!record?.webhook) return;
        const resource = await buildJobResource(record, { urlFor: (key) => deps.objects.url(key) });
        await dispatcher.notify(record, event, resource);
      } catch (err) {
        withJobId(deps.logger, jobId).error({ err, event }, 'could not enqueue webhook');
      }
    },
    close: () => dispatcher.close(),
  };
}
