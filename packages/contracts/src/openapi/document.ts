// The OpenAPI 3.1 document: component schemas from zod plus the route descriptions.
import { stringify } from 'yaml';
import { componentSchemas } from './registry.ts';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string) => ({ 'application/json': { schema: ref(id) } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
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
          ...json('CreateJobRequest'),
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
        400: problem('Invalid request: validation_failed (with errors[]), unknown_model, unsupported_job_type, invalid_size, unknown_scheduler, image_invalid, image_fetch_failed, url_not_allowed, prompt_*'),
        401: problem('unauthorized'),
        409: problem('idempotency_conflict'),
        413: problem('payload_too_large, image_too_large'),
        415: problem('unsupported_media_type'),
      },
    },
  },
  '/v1/jobs/{id}': {
    get: {
      operationId: 'getJob',
      summary: 'Read a job',
      parameters: [jobId],
      responses: { 200: { description: 'The job', content: json('JobResource') }, 401: problem('unauthorized'), 404: problem('job_not_found') },
    },
  },
  '/v1/jobs/{id}/events': {
    get: {
      operationId: 'streamJobEvents',
      summary: 'Follow a job with Server-Sent Events',
      description: 'First the current state (event named after the status), then queued/started/progress events and one '
        + 'terminal event (succeeded, failed or canceled), after which the stream ends. `id:` is the event seq; comments keep the connection alive.',
      parameters: [jobId],
      responses: {
        200: { description: 'Event stream; each `data:` is a JobEventPayload', content: { 'text/event-stream': { schema: ref('JobEventPayload') } } },
        401: problem('unauthorized'),
        404: problem('job_not_found'),
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
        401: problem('unauthorized'),
        404: problem('job_not_found'),
        409: problem('job_finished'),
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
        403: problem('url_expired, url_invalid'),
        404: problem('not_found'),
      },
    },
  },
  '/v1/models': {
    get: {
      operationId: 'listModels',
      summary: 'Models available in MODELS_DIR',
      responses: { 200: { description: 'Models', content: json('ModelList') }, 401: problem('unauthorized') },
    },
  },
  '/healthz': {
    get: { operationId: 'health', summary: 'Process alive', responses: { 200: { description: 'ok' } } },
  },
  '/readyz': {
    get: {
      operationId: 'ready',
      summary: 'Redis and storage reachable',
      responses: { 200: { description: 'ready' }, 503: problem('not_ready') },
    },
  },
};

export function buildOpenApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Stable Diffusion image service',
      version: '1.0.0',
      description: 'Submit txt2img, img2img and inpaint jobs; follow them by polling, Server-Sent Events or signed webhooks '
        + '(Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature). Errors are RFC 9457 problem details with a stable `code`.',
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
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Required when API_KEYS is set' } },
      schemas: componentSchemas(),
    },
  };
}

export function renderOpenApiYaml(): string {
  return '# Generated by `npm run openapi` from packages/contracts (zod schemas). Do not edit by hand.\n'
    + stringify(buildOpenApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false });
}
