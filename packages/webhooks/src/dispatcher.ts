// Enqueues webhook messages: one BullMQ job per (job, event), its id the message id, so an event
// enqueued twice is sent once and every retry carries the same `webhook-id`.
import { Queue, type ConnectionOptions } from 'bullmq';
import { bullmqPrefix, DEFAULT_PREFIX } from '@sdsvc/jobs';
import {
  messageIdFor, WEBHOOK_EVENT_TYPES, WEBHOOK_QUEUE, type WebhookEventType, type WebhookJobData, type WebhookPayload,
} from './types.ts';

/** Standard Webhooks' schedule in ms: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const DEFAULT_SCHEDULE_MS: readonly number[] = [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400].map((s) => s * 1000);

export interface DispatcherOptions {
  connection: ConnectionOptions;
  /** QUEUE_PREFIX; the BullMQ keys live under `bullmqPrefix(prefix)` (`<prefix>:bull`), like the generate queue. */
  prefix?: string;
  /** Delay before each attempt; its length is the number of attempts (WEBHOOK_RETRY_SCHEDULE). */
  schedule?: readonly number[];
}

export interface NotifiableJob {
  id: string;
  webhook?: { url: string; events?: readonly string[] } | null;
}

export interface WebhookMessage<T = unknown> {
  jobId: string;
  url: string;
  type: WebhookEventType;
  data: T;
  /** Event time; now when absent. */
  timestamp?: Date;
}

export class WebhookDispatcher {
  readonly queue: Queue<WebhookJobData>;
  private readonly schedule: readonly number[];

  constructor(opts: DispatcherOptions) {
    this.queue = new Queue<WebhookJobData>(WEBHOOK_QUEUE, { connection: opts.connection, prefix: bullmqPrefix(opts.prefix ?? DEFAULT_PREFIX) });
    this.schedule = opts.schedule ?? DEFAULT_SCHEDULE_MS;
    if (this.schedule.length === 0) throw new Error('webhook schedule must have at least one entry');
  }

  /** Sends `type` for `job` if it has a webhook subscribed to that event (all events when `events`
   * is absent or empty). `data` is the job resource. Returns the message id, or null when not sent. */
  async notify<T>(job: NotifiableJob, type: WebhookEventType, data: T, opts: { timestamp?: Date } = {}): Promise<string | null> {
    const hook = job.webhook;
    if (!hook?.url) return null;
    if (hook.events && hook.events.length > 0 && !hook.events.includes(type)) return null;
    return await this.enqueue({ jobId: job.id, url: hook.url, type, data, timestamp: opts.timestamp });
  }

  async enqueue<T>(msg: WebhookMessage<T>): Promise<string> {
    if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(msg.type)) throw new Error(`unknown webhook event ${msg.type}`);
    const messageId = messageIdFor(msg.jobId, msg.type);
    const payload: WebhookPayload<T> = { type: msg.type, timestamp: (msg.timestamp ?? new Date()).toISOString(), data: msg.data };
    await this.queue.add(msg.type, { messageId, jobId: msg.jobId, url: msg.url, type: msg.type, body: JSON.stringify(payload) }, {
      jobId: messageId,
      delay: this.schedule[0],
      attempts: this.schedule.length,
      backoff: { type: 'webhook-schedule' },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    return messageId;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
