// Primitive schemas shared by requests, resources and events.
import { z } from 'zod';

/** Jobs that make images (CreateJobRequest); animation jobs have their own request schema. */
export const IMAGE_JOB_TYPES = ['txt2img', 'img2img', 'inpaint'] as const;
export const ImageJobType = z.enum(IMAGE_JOB_TYPES);
export type ImageJobType = z.infer<typeof ImageJobType>;
export const JOB_TYPES = [...IMAGE_JOB_TYPES, 'animation'] as const;
export const JobType = z.enum(JOB_TYPES);
export type JobType = z.infer<typeof JobType>;

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export const JobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatus>;
export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];

export const OUTPUT_FORMATS = ['png', 'webp', 'jpeg'] as const;
export const OutputFormat = z.enum(OUTPUT_FORMATS);
export type OutputFormat = z.infer<typeof OutputFormat>;

export const RESIZE_MODES = ['resize', 'crop', 'fill'] as const;
export const ResizeMode = z.enum(RESIZE_MODES);
export type ResizeMode = z.infer<typeof ResizeMode>;

export const WEBHOOK_EVENTS = ['job.started', 'job.succeeded', 'job.failed', 'job.canceled'] as const;
export const WebhookEventType = z.enum(WEBHOOK_EVENTS);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** Largest seed: 2^53 − 1, the largest integer JSON numbers carry exactly. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;
export const Seed = z.int().min(0).max(MAX_SEED); // z.int() is already bounded to safe integers

export const Timestamp = z.iso.datetime({ offset: true }).describe('RFC 3339 timestamp (UTC)');

export const JsonValue = z.json();
export const JsonObject = z.record(z.string(), JsonValue);
