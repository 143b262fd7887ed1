// Server-Sent Events (GET /v1/jobs/:id/events) and webhook payloads.
import { z } from 'zod';
import { Timestamp, WebhookEventType } from './common.ts';
import { JobResource } from './job-resource.ts';

export const JOB_EVENT_TYPES = ['queued', 'started', 'progress', 'succeeded', 'failed', 'canceled'] as const;
export const JobEventType = z.enum(JOB_EVENT_TYPES);
export type JobEventType = z.infer<typeof JobEventType>;
export const TERMINAL_EVENTS: readonly JobEventType[] = ['succeeded', 'failed', 'canceled'];

/** `data:` of every SSE event; the SSE `event:` field is `type` and `id:` is `seq`. */
export const JobEventPayload = z.object({
  type: JobEventType,
  seq: z.int().min(1).describe('Monotonically increasing per job'),
  job: JobResource,
});
export type JobEventPayload = z.infer<typeof JobEventPayload>;

/**
 * `data:` of an SSE `event: preview` (jobs with `preview`): a live preview of the running job. No
 * `id:` (previews are not record events) and not stored in the job; the latest one is kept briefly
 * and sent to a client that joins a running job.
 */
export const JobPreviewPayload = z.object({
  type: z.literal('preview'),
  step: z.int().min(1).describe('The denoising step the preview shows (counted like progress.step)'),
  total: z.int().min(1),
  width: z.int().describe('Preview width: the image\'s with a TAESD decoder (vae_approx), 1/8 of it with the linear latent→RGB map'),
  height: z.int(),
  image: z.string().describe('data:image/webp;base64,… or data:image/jpeg;base64,… (preview.format)'),
});
export type JobPreviewPayload = z.infer<typeof JobPreviewPayload>;

export const WebhookPayload = z.object({
  type: WebhookEventType,
  timestamp: Timestamp,
  data: JobResource,
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;

/** Which webhook event a job event maps to (progress and queued are not delivered). */
export function webhookEventFor(type: JobEventType): WebhookEventType | null {
  switch (type) {
    case 'started': return 'job.started';
    case 'succeeded': return 'job.succeeded';
    case 'failed': return 'job.failed';
    case 'canceled': return 'job.canceled';
    default: return null;
  }
}
