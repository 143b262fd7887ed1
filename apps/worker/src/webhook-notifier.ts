// Job lifecycle → webhook. The job store's transitions write each webhook event to the outbox in
// the same Lua script as the state change; this runs the outbox drain of a worker process, which
// renders the job resource as it was at the event and enqueues it on the webhook queue (message id
// `msg_<job>_<event>`, so duplicates collapse). notify() only asks for a drain now; entries left
// by a crashed process are drained on the next pass of any process. Image URLs are signed again
// at each delivery attempt (webhook-delivery.ts), so they work whenever the webhook arrives.
import type { Redis } from 'ioredis';
import type { Config } from '@sdsvc/config';
import type { WebhookEventType } from '@sdsvc/contracts';
import { buildJobResource, type JobStore } from '@sdsvc/jobs';
import type { Logger } from '@sdsvc/logging';
import type { ObjectStore } from '@sdsvc/storage';
import { startOutboxDrain, WebhookDispatcher } from '@sdsvc/webhooks';

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
  /** Outbox poll period (default 1000 ms). */
  intervalMs?: number;
}

export function createWebhookNotifier(deps: WebhookNotifierDeps): JobNotifier {
  // Same queue prefix and schedule as every other dispatcher: one webhook queue per deployment.
  const dispatcher = new WebhookDispatcher({
    connection: deps.connection, prefix: deps.config.queuePrefix, schedule: deps.config.webhookRetrySchedule,
  });
  const drain = startOutboxDrain({
    redis: deps.connection,
    prefix: deps.config.queuePrefix,
    dispatcher,
    intervalMs: deps.intervalMs,
    render: (entry) => buildJobResource(entry.record, { urlFor: (key) => deps.objects.url(key) }),
    onError: (err, entry) => deps.logger.warn({ err, job_id: entry?.id, event: entry?.type }, 'webhook outbox drain failed; retrying'),
  });
  return {
    async notify() {
      drain.kick();
    },
    async close() {
      await drain.close();
      await dispatcher.close();
    },
  };
}
