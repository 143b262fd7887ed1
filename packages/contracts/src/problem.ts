// RFC 9457 problem details with a stable `code` (and field errors for validation).
import { z } from 'zod';

export const FieldError = z.object({
  path: z.string().describe('Dotted path of the failing field, e.g. `webhook.url` or `init_image`'),
  code: z.string().describe('Stable code: required, invalid_type, too_small, too_big, invalid_value, unknown_field, not_allowed_for_type, …'),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldError>;

/**
 * Every `code` the API answers with, and its HTTP status: the single source (the API's HttpProblem
 * only takes these; openapi.yaml documents them). `bad_request` stands for framework 4xx errors
 * without a code of their own and keeps the framework's status (400 in practice).
 */
export const PROBLEM_CODES = {
  // 400: the request
  validation_failed: 400,
  invalid_json: 400,
  invalid_body: 400,
  bad_request: 400,
  invalid_idempotency_key: 400,
  unknown_model: 400,
  unsupported_job_type: 400,
  invalid_size: 400,
  unknown_scheduler: 400,
  unknown_lora: 400,
  lora_incompatible: 400,
  lora_invalid: 400,
  lora_fetch_failed: 400,
  image_invalid: 400,
  image_fetch_failed: 400,
  mask_size_mismatch: 400,
  url_not_allowed: 400,
  limit_exceeded: 400,
  webhooks_not_configured: 400,
  prompt_multiple_image_tags: 400,
  prompt_image_tag_invalid: 400,
  prompt_image_tag_in_negative: 400,
  prompt_lora_tag_invalid: 400,
  prompt_too_long: 400,
  prompt_blocked: 400,
  content_blocked: 400,
  invalid_schedule: 400,
  format_unavailable: 400,
  // 401, 403, 404, 409
  unauthorized: 401,
  forbidden: 403,
  url_expired: 403,
  safety_not_exempt: 403,
  url_invalid: 403,
  job_not_found: 404,
  not_found: 404,
  job_finished: 409,
  idempotency_conflict: 409,
  idempotency_in_progress: 409,
  // 413, 415
  payload_too_large: 413,
  image_too_large: 413,
  unsupported_media_type: 415,
  // 429
  rate_limited: 429,
  quota_exceeded: 429,
  // 5xx
  internal_error: 500,
  generation_failed: 500,
  generation_timeout: 504,
  not_ready: 503,
  overloaded: 503,
  queue_unavailable: 503,
  model_unavailable: 503,
  storage_unavailable: 503,
  store_unavailable: 503,
  shutting_down: 503,
} as const;
export type ProblemCode = keyof typeof PROBLEM_CODES;
export const PROBLEM_CODE_NAMES = Object.keys(PROBLEM_CODES) as [ProblemCode, ...ProblemCode[]];

/** Whether `code` is one of PROBLEM_CODES. */
export const isProblemCode = (code: string): code is ProblemCode => Object.hasOwn(PROBLEM_CODES, code);

export const Problem = z.object({
  type: z.string().describe('URI reference naming the problem type'),
  title: z.string(),
  status: z.int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  code: z.enum(PROBLEM_CODE_NAMES).describe(`Stable machine-readable code (HTTP status): ${
    PROBLEM_CODE_NAMES.map((c) => `${c} (${PROBLEM_CODES[c]})`).join(', ')}`),
  request_id: z.string().optional(),
  errors: z.array(FieldError).optional(),
});
export type Problem = z.infer<typeof Problem>;
