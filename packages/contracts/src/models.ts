// GET /v1/models
import { z } from 'zod';
import { JobType } from './common.ts';

export const ModelLimits = z.object({
  max_output_pixels: z.int().describe('Largest width × height (MAX_OUTPUT_PIXELS; default 4 × the native pixel count)'),
  max_steps: z.int().describe('Largest steps (MAX_STEPS)'),
  max_num_images: z.int().describe('Largest num_images (MAX_NUM_IMAGES)'),
  job_timeout_ms: z.int().nullable().describe('Deadline of a running job (JOB_TIMEOUT_MS); null: none'),
}).describe('What one job on this model may cost; past it: 400 limit_exceeded naming the limit. MODEL_LIMITS overrides the global values per model.');
export type ModelLimits = z.infer<typeof ModelLimits>;

export const ModelSummary = z.object({
  id: z.string(),
  object: z.literal('model').describe('OpenAI model-list compatibility'),
  created: z.int().describe('Unix seconds: when the model folder was last changed (OpenAI model-list compatibility)'),
  owned_by: z.string().describe('Always "sdsvc" (OpenAI model-list compatibility)'),
  kind: z.string().describe('Architecture family: sd1, sd2, sdxl, …'),
  capabilities: z.array(JobType),
  native_size: z.object({ width: z.int(), height: z.int() }),
  size_step: z.int().describe('width and height must be multiples of this'),
  default_scheduler: z.string(),
  schedulers: z.array(z.string()).describe('Scheduler names a job may use (lower case), besides `default` (the model\'s own, `default_scheduler`)'),
  default: z.boolean().describe('True for DEFAULT_MODEL'),
  limits: ModelLimits,
  workers: z.int().describe('Live workers holding this model (registered in Redis, heartbeat not lapsed). 0: jobs for it answer 503 model_unavailable, unless QUEUE_WITHOUT_WORKERS=true queues them'),
  execution_providers: z.array(z.string()).describe('ONNX Runtime execution providers this model\'s graphs run on in the live workers that have loaded it (e.g. ["cuda"]); empty until one has'),
  available: z.boolean().describe('Whether a job for this model is accepted now: a live worker holds it, or QUEUE_WITHOUT_WORKERS=true'),
});
export type ModelSummary = z.infer<typeof ModelSummary>;

export const ModelList = z.object({ object: z.literal('list'), data: z.array(ModelSummary) })
  .describe('Also a valid OpenAI model list (object, data[].id, data[].object, created, owned_by)');
export type ModelList = z.infer<typeof ModelList>;

export const WorkerSummary = z.object({
  id: z.string().describe('Registration id (host, pid and a random suffix)'),
  host: z.string(),
  pid: z.int(),
  started_at: z.string().describe('ISO time the worker registered'),
  models: z.array(z.object({
    id: z.string(),
    execution_providers: z.record(z.string(), z.string()).describe('Graph folder → execution provider it runs on, once the model has loaded on this worker'),
  })),
  capabilities: z.object({
    job_types: z.array(z.string()),
    execution_providers: z.array(z.string()).describe('EXECUTION_PROVIDERS, in the order tried'),
    concurrency: z.int().describe('Jobs it takes at once (max of WORKER_CONCURRENCY and BATCH_MAX_JOBS)'),
    batch_max_jobs: z.int(),
  }),
});
export type WorkerSummary = z.infer<typeof WorkerSummary>;

export const WorkerList = z.object({ object: z.literal('list'), data: z.array(WorkerSummary) })
  .describe('The live workers: registered in Redis, heartbeat not lapsed');
export type WorkerList = z.infer<typeof WorkerList>;
