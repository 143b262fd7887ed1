// Redis key and channel names. One prefix (config, default `sdsvc`) for everything we own.
export const DEFAULT_PREFIX = 'sdsvc';
/** The single generate queue of earlier versions: drained into the per-model queues (reconciler). */
export const GENERATE_QUEUE = 'generate';
/** One BullMQ queue per model, so a worker takes only jobs for models it holds (BullMQ queue names
 *  cannot contain ':'; model ids are [A-Za-z0-9._-]). */
export const generateQueueName = (model: string): string => `${GENERATE_QUEUE}.${model}`;
/** The model of a per-model queue name, or null for any other queue. */
export const modelOfQueue = (name: string): string | null => (name.startsWith(`${GENERATE_QUEUE}.`) ? name.slice(GENERATE_QUEUE.length + 1) : null);
export const WEBHOOK_QUEUE = 'webhooks';

export function jobKeys(prefix: string, id: string) {
  return {
    record: `${prefix}:job:${id}`,
    webhookAttempts: `${prefix}:job:${id}:webhook-attempts`,
    events: `${prefix}:job-events:${id}`,
  };
}
/** The job's latest live preview (JSON of a JobPreview), kept PREVIEW_TTL_SECONDS: never in the record. */
export const jobPreviewKey = (prefix: string, id: string): string => `${prefix}:job:${id}:preview`;
/** Ids of jobs not yet finished, scored by their last change (ms): what the reconciler checks. */
export const activeJobsKey = (prefix: string): string => `${prefix}:jobs:active`;
/** Every job scored by when it is due for deletion (ms): RESULT_TTL after its last change. */
export const expiringJobsKey = (prefix: string): string => `${prefix}:jobs:expiry`;
/** Base name of the per-model queued sets: `<base>:<model>` holds that model's queued jobs scored in
 *  the order workers take them (scripts.ts queue_score): ZRANK = queue position. */
export const queuedJobsKey = (prefix: string): string => `${prefix}:jobs:queued`;
export const modelQueuedJobsKey = (prefix: string, model: string): string => `${queuedJobsKey(prefix)}:${model}`;
/** Live workers: id → when its registration lapses (ms), and each worker's registration (JSON, PX). */
export const workersKey = (prefix: string): string => `${prefix}:workers`;
export const workerKey = (prefix: string, id: string): string => `${prefix}:worker:${id}`;
/** Every model a worker has ever announced (id → its description): what the API validates against
 *  when no live worker holds the model (QUEUE_WITHOUT_WORKERS). */
export const knownModelsKey = (prefix: string): string => `${prefix}:models`;
/** Webhook events written by the same script as the state change, drained into the webhook queue. */
export const outboxKey = (prefix: string): string => `${prefix}:outbox`;
/** Short lease so one process at a time runs the reconciler. */
export const reconcilerLockKey = (prefix: string): string => `${prefix}:reconciler-lock`;
export const cancelChannel = (prefix: string): string => `${prefix}:cancel`;
export const idempotencyKey = (prefix: string, key: string): string => `${prefix}:idempotency:${key}`;
/** BullMQ key prefix, kept under ours so one Redis can host several deployments. */
export const bullmqPrefix = (prefix: string): string => `${prefix}:bull`;
