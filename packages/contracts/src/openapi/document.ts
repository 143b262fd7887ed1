// The OpenAPI 3.1 document: component schemas from zod plus the route descriptions.
import { stringify } from 'yaml';
import { PROBLEM_CODES, type ProblemCode } from '../problem.ts';
import { componentSchemas } from './registry.ts';
import { compatPaths } from './compat-paths.ts';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string) => ({ 'application/json': { schema: ref(id) } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });

/** Any route may fail unexpectedly. */
const ANY_ROUTE: ProblemCode[] = ['internal_error', 'overloaded'];

/** Problem responses for `codes`, one per status (from PROBLEM_CODES), listing that status's codes. */
export function problemResponses(codes: readonly ProblemCode[]): Record<number, ReturnType<typeof problem>> {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of [...codes, ...ANY_ROUTE]) {
    const list = byStatus.get(PROBLEM_CODES[code]) ?? [];
    if (!list.includes(code)) list.push(code);
    byStatus.set(PROBLEM_CODES[code], list);
  }
  const out: Record<number, ReturnType<typeof problem>> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) out[status] = problem(`Problem codes: ${list.join(', ')}`);
  return out;
}

/** The problem codes each route can answer with (besides ANY_ROUTE); the API test checks they exist. */
export const ROUTE_PROBLEMS = {
  createJob: [
    'validation_failed', 'invalid_json', 'invalid_body', 'bad_request', 'invalid_idempotency_key', 'unknown_model', 'model_unavailable',
    'unsupported_job_type', 'invalid_size', 'unknown_scheduler', 'unknown_lora', 'lora_incompatible', 'lora_invalid', 'lora_fetch_failed', 'image_invalid', 'image_fetch_failed', 'mask_size_mismatch',
    'url_not_allowed', 'webhooks_not_configured', 'prompt_multiple_image_tags', 'prompt_image_tag_invalid', 'prompt_image_tag_in_negative', 'prompt_lora_tag_invalid',
    'unauthorized', 'job_not_found', 'idempotency_conflict', 'payload_too_large', 'image_too_large', 'unsupported_media_type', 'queue_unavailable',
    'prompt_blocked', 'safety_not_exempt', 'invalid_schedule', 'format_unavailable', 'storage_unavailable',
    'idempotency_in_progress', 'limit_exceeded', 'rate_limited', 'quota_exceeded',
  ],
  adminQueues: ['unauthorized', 'forbidden'],
  getJob: ['unauthorized', 'job_not_found', 'store_unavailable'],
  streamJobEvents: ['unauthorized', 'job_not_found', 'store_unavailable', 'shutting_down'],
  cancelJob: ['unauthorized', 'job_not_found', 'job_finished', 'store_unavailable'],
  getFile: ['url_expired', 'url_invalid', 'not_found'],
  listModels: ['unauthorized'],
  listWorkers: ['unauthorized', 'forbidden', 'store_unavailable'],
  listLoras: ['unauthorized'],
  ready: ['not_ready'],
  /** /v1/images/*: rendered as OpenAI's error object, `code` = the problem code. */
  openaiImages: [
    'validation_failed', 'invalid_json', 'bad_request', 'unknown_model', 'model_unavailable', 'unsupported_job_type', 'invalid_size',
    'unknown_scheduler', 'image_invalid', 'image_fetch_failed', 'mask_size_mismatch', 'url_not_allowed', 'prompt_multiple_image_tags',
    'prompt_image_tag_invalid', 'prompt_image_tag_in_negative', 'prompt_too_long', 'unauthorized', 'job_not_found', 'payload_too_large',
    'image_too_large', 'unsupported_media_type', 'queue_unavailable', 'generation_failed', 'generation_timeout',
    'unknown_lora', 'lora_incompatible', 'lora_invalid', 'prompt_lora_tag_invalid', 'limit_exceeded', 'prompt_blocked', 'rate_limited', 'quota_exceeded',
    'content_blocked', 'storage_unavailable',
  ],
} satisfies Record<string, ProblemCode[]>;
const jobId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const IMAGE_PART = { type: 'string', contentMediaType: 'application/octet-stream', description: 'Image file (PNG, JPEG, WebP, …)' };

const paths = {
  '/v1/jobs': {
    post: {
      operationId: 'createJob',
      summary: 'Submit a generation job',
      description: 'Validates the request, decodes and stores input images, and queues the job. '
        + 'Multipart bodies take the same fields as text parts (or one `json` part) and image file parts.',
      security: [{ bearer: [] }, {}],
      parameters: [
        { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 255 },
          description: 'Same key and same body within 24 h → the same job; same key, other body → 409 idempotency_conflict' },
        { name: 'Prefer', in: 'header', schema: { type: 'string', example: 'wait=30' },
          description: '`wait=N` (N ≤ 60): hold the answer until the job ends or N seconds pass' },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: { oneOf: [ref('CreateJobRequest'), ref('CreateAnimationRequest')] },
          },
          'multipart/form-data': {
            schema: {
              type: 'object',
              properties: {
                json: { type: 'string', contentMediaType: 'application/json', description: 'CreateJobRequest as one JSON part' },
                init_image: IMAGE_PART, mask_image: IMAGE_PART, reference_image: IMAGE_PART,
              },
              additionalProperties: { type: 'string', description: 'Any other CreateJobRequest field as a text part' },
            },
          },
        },
      },
      responses: {
        202: {
          description: 'Job accepted (or, with Prefer: wait, the job as it stands)',
          headers: {
            Location: { schema: { type: 'string' }, description: 'URL of the job resource' },
            'Preference-Applied': { schema: { type: 'string' }, description: 'Echoes `wait=N` when honoured' },
            'Idempotent-Replayed': { schema: { type: 'string', enum: ['true'] }, description: 'Present when an earlier job was returned' },
          },
          content: json('JobResource'),
        },
        ...problemResponses(ROUTE_PROBLEMS.createJob),
      },
    },
  },
  '/v1/jobs/{id}': {
    get: {
      operationId: 'getJob',
      summary: 'Read a job',
      parameters: [jobId],
      responses: { 200: { description: 'The job', content: json('JobResource') }, ...problemResponses(ROUTE_PROBLEMS.getJob) },
    },
  },
  '/v1/jobs/{id}/events': {
    get: {
      operationId: 'streamJobEvents',
      summary: 'Follow a job with Server-Sent Events',
      description: 'First the current state (event named after the status), then queued/started/progress events and one '
        + 'terminal event (succeeded, failed or canceled), after which the stream ends. `id:` is the event seq; comments keep the connection alive. '
        + 'When Redis becomes unreachable or the server shuts down, a last `event: error` carries a Problem (`store_unavailable` or `shutting_down`) and the stream ends: reconnect later. '
        + 'Jobs created with `preview` also get `event: preview` (a JobPreviewPayload, no `id:`) every `preview.every_steps` steps while they run; a client joining a running job gets the latest preview after the state.',
      parameters: [jobId],
      responses: {
        200: {
          description: 'Event stream; each `data:` is a JobEventPayload, or a JobPreviewPayload for `event: preview`',
          content: { 'text/event-stream': { schema: { oneOf: [ref('JobEventPayload'), ref('JobPreviewPayload')] } } },
        },
        ...problemResponses(ROUTE_PROBLEMS.streamJobEvents),
      },
    },
  },
  '/v1/jobs/{id}/cancel': {
    post: {
      operationId: 'cancelJob',
      summary: 'Cancel a job',
      parameters: [jobId],
      responses: {
        200: { description: 'A queued job: removed from the queue and canceled', content: json('JobResource') },
        202: { description: 'A running job: cancel requested, it stops between two denoising steps', content: json('JobResource') },
        ...problemResponses(ROUTE_PROBLEMS.cancelJob),
      },
    },
  },
  '/v1/files/{key}': {
    get: {
      operationId: 'getFile',
      summary: 'Download a stored object by signed URL (local file store)',
      parameters: [
        { name: 'key', in: 'path', required: true, schema: { type: 'string' }, description: 'Object key (may contain slashes)' },
        { name: 'expires', in: 'query', required: true, schema: { type: 'integer' } },
        { name: 'sig', in: 'query', required: true, schema: { type: 'string' } },
      ],
      responses: {
        200: { description: 'The object', content: { 'application/octet-stream': {} } },
        ...problemResponses(ROUTE_PROBLEMS.getFile),
      },
    },
  },
  '/v1/models': {
    get: {
      operationId: 'listModels',
      summary: 'Models the live workers hold (and those in the API\'s own MODELS_DIR)',
      description: '`workers`: live workers holding the model; a job for a model with none answers 503 model_unavailable unless QUEUE_WITHOUT_WORKERS=true.',
      responses: { 200: { description: 'Models', content: json('ModelList') }, ...problemResponses(ROUTE_PROBLEMS.listModels) },
    },
  },
  '/v1/workers': {
    get: {
      operationId: 'listWorkers',
      summary: 'Live workers: the models each holds and its capabilities',
      description: 'Admin API keys only when keys are configured. Read from the worker registry at each call.',
      security: [{ bearer: [] }],
      responses: { 200: { description: 'Workers', content: json('WorkerList') }, ...problemResponses(ROUTE_PROBLEMS.listWorkers) },
    },
  },
  '/v1/loras': {
    get: {
      operationId: 'listLoras',
      summary: 'LoRA adapters in LORA_DIR',
      description: 'Every .safetensors file below LORA_DIR (new files are found on the next call): id, size, sha256, key naming, ranks and the model parts it changes.',
      responses: { 200: { description: 'LoRAs', content: json('LoraList') }, ...problemResponses(ROUTE_PROBLEMS.listLoras) },
    },
  },
  '/healthz': {
    get: { operationId: 'health', summary: 'Process alive', responses: { 200: { description: 'ok' } } },
  },
  '/readyz': {
    get: {
      operationId: 'ready',
      summary: 'Redis and storage reachable',
      responses: { 200: { description: 'ready' }, ...problemResponses(ROUTE_PROBLEMS.ready) },
    },
  },
  '/admin/queues': {
    get: {
      operationId: 'queueDashboard',
      summary: 'Queue dashboard (bull-board) for the generate and webhook queues',
      description: 'HTML. Admin API keys only (ADMIN_API_KEYS or an `:admin` line of API_KEYS_FILE); ADMIN_TOKEN when no keys are configured.',
      security: [{ bearer: [] }],
      responses: { 200: { description: 'The dashboard', content: { 'text/html': { schema: { type: 'string' } } } }, ...problemResponses(ROUTE_PROBLEMS.adminQueues) },
    },
  },
  ...compatPaths(ROUTE_PROBLEMS.openaiImages),
};

export function buildOpenApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Stable Diffusion image service',
      version: '1.0.0',
      description: 'Submit txt2img, img2img and inpaint jobs; follow them by polling, Server-Sent Events or signed webhooks '
        + '(Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature). Errors are RFC 9457 problem details with a stable `code` (see Problem.code); an unknown route answers 404 not_found.',
    },
    servers: [{ url: '/' }],
    paths,
    webhooks: {
      jobEvent: {
        post: {
          summary: 'Job lifecycle notification (job.started, job.succeeded, job.failed, job.canceled)',
          requestBody: { content: json('WebhookPayload') },
          responses: { 200: { description: 'Any 2xx ends delivery; 410 stops it; other answers are retried' } },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Required when API_KEYS is set' },
        basic: { type: 'http', scheme: 'basic', description: 'A1111_API_AUTH credentials (/sdapi/v1/* only)' },
      },
      schemas: componentSchemas(),
    },
  };
}

export function renderOpenApiYaml(): string {
  return '# Generated by `npm run openapi` from packages/contracts (zod schemas). Do not edit by hand.\n'
    + stringify(buildOpenApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false });
}
