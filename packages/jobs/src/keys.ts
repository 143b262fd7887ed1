// Redis key and channel names. One prefix (config, default `sdsvc`) for everything we own.
export const DEFAULT_PREFIX = 'sdsvc';
export const GENERATE_QUEUE = 'generate';
export const WEBHOOK_QUEUE = 'webhooks';

export function jobKeys(prefix: string, id: string) {
  return {
    record: `${prefix}:job:${id}`,
    webhookAttempts: `${prefix}:job:${id}:webhook-attempts`,
    events: `${prefix}:job-events:${id}`,
  };
}
export const cancelChannel = (prefix: string): string => `${prefix}:cancel`;
export const idempotencyKey = (prefix: string, key: string): string => `${prefix}:idempotency:${key}`;
/** BullMQ key prefix, kept under ours so one Redis can host several deployments. */
export const bullmqPrefix = (prefix: string): string => `${prefix}:bull`;
