// RFC 9457 problem details with a stable `code` (and field errors for validation).
import { z } from 'zod';

export const FieldError = z.object({
  path: z.string().describe('Dotted path of the failing field, e.g. `webhook.url` or `init_image`'),
  code: z.string().describe('Stable code: required, invalid_type, too_small, too_big, invalid_value, unknown_field, not_allowed_for_type, …'),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldError>;

export const Problem = z.object({
  type: z.string().describe('URI reference naming the problem type'),
  title: z.string(),
  status: z.int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  code: z.string().describe('Stable machine-readable code'),
  request_id: z.string().optional(),
  errors: z.array(FieldError).optional(),
});
export type Problem = z.infer<typeof Problem>;

/** Stable problem codes with their HTTP status. */
export const PROBLEM_CODES = {
  validation_failed: 400,
  invalid_json: 400,
  unknown_model: 400,
  unsupported_job_type: 400,
  invalid_size: 400,
  unknown_scheduler: 400,
  image_invalid: 400,
  image_fetch_failed: 400,
  url_not_allowed: 400,
  prompt_syntax: 400,
  unauthorized: 401,
  url_expired: 403,
  url_invalid: 403,
  job_not_found: 404,
  not_found: 404,
  job_finished: 409,
  idempotency_conflict: 409,
  payload_too_large: 413,
  image_too_large: 413,
  unsupported_media_type: 415,
  not_ready: 503,
  internal_error: 500,
} as const;
export type ProblemCode = keyof typeof PROBLEM_CODES;
