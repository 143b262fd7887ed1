// Shapes shared by the dispatcher (API/worker side) and the delivery worker.
export const WEBHOOK_EVENT_TYPES = ['job.started', 'job.succeeded', 'job.failed', 'job.canceled'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WEBHOOK_QUEUE = 'webhooks';

/** The body delivered (Standard Webhooks shape). */
export interface WebhookPayload<T = unknown> { type: WebhookEventType; timestamp: string; data: T }

/** One BullMQ job on the `webhooks` queue = one message (one event of one job) and all its attempts. */
export interface WebhookJobData {
  messageId: string;
  jobId: string;
  url: string;
  type: WebhookEventType;
  /** JSON of the WebhookPayload, serialised once so every attempt sends identical bytes. */
  body: string;
}

/** What happened on one attempt; stored on the job resource (snake_case like the API). */
export interface WebhookAttempt {
  event: WebhookEventType;
  /** 1-based. */
  attempt: number;
  /** HTTP status, null when no response came (timeout, refused, URL not allowed). */
  status: number | null;
  error: string | null;
  /** ISO time of the attempt. */
  at: string;
  /** ISO time of the next attempt, null when this was the last one. */
  next_retry_at: string | null;
}

export function messageIdFor(jobId: string, type: WebhookEventType): string {
  return `msg_${jobId}_${type}`;
}
