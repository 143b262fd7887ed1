// The table of every environment variable: name, default and meaning (the README is written from
// it) plus the zod schema that parses the raw string. One place, so docs and code cannot drift.
import { z } from 'zod';
import {
  booleanVar, bytesVar, durationListVar, durationVar, enumVar, intVar, listVar, urlVar,
} from './parsers.ts';
import { parseStorageUrl } from './storage-url.ts';
import { checkWebhookSecret } from './webhook-secret.ts';
import { modelLimitsVar } from './model-limits.ts';

export interface VariableDoc {
  name: string;
  /** The default as written in the environment; undefined = unset by default. */
  default: string | undefined;
  description: string;
}

export const ROLES = ['api', 'worker', 'all'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const EXECUTION_PROVIDERS = ['cuda', 'webgpu', 'cpu'] as const;
/** Standard Webhooks' schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = '0,5s,5m,30m,2h,5h,10h,14h,20h,24h';

/** WARMUP_SIZES: "512x512,768x768" → sizes; "" or "none" → none. */
const sizesVar = z.string().transform((raw, ctx) => {
  const sizes: Array<{ width: number; height: number }> = [];
  if (raw.trim().toLowerCase() === 'none') return sizes;
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^(\d+)x(\d+)$/i.exec(item);
    if (!m || Number(m[1]) <= 0 || Number(m[2]) <= 0) {
      ctx.addIssue({ code: 'custom', message: `expected WIDTHxHEIGHT sizes separated by commas (e.g. 512x512,768x768), got "${item}"` });
      return z.NEVER;
    }
    sizes.push({ width: Number(m[1]), height: Number(m[2]) });
  }
  return sizes;
});

/** Bytes, or 0 for "no limit". */
const bytesOrZero = z.string().transform((raw, ctx) => (raw.trim() === '0' ? 0 : bytesVar.safeParse(raw).success ? bytesVar.parse(raw) : (ctx.addIssue({ code: 'custom', message: `expected 0 or a size in bytes (e.g. 8GiB), got "${raw}"` }), z.NEVER)));

const nonEmpty = z.string().transform((raw, ctx) => {
  const v = raw.trim();
  if (v === '') { ctx.addIssue({ code: 'custom', message: 'must not be empty' }); return z.NEVER; }
  return v;
});

const storageUrl = z.string().transform((raw, ctx) => {
  const loc = parseStorageUrl(raw);
  if (typeof loc === 'string') { ctx.addIssue({ code: 'custom', message: loc }); return z.NEVER; }
  return raw.trim();
});

const webhookSecret = z.string().transform((raw, ctx) => {
  const problem = checkWebhookSecret(raw.trim());
  if (problem) { ctx.addIssue({ code: 'custom', message: problem }); return z.NEVER; }
  return raw.trim();
});

const fileUrlSecret = z.string().transform((raw, ctx) => {
  if (raw.length < 16) { ctx.addIssue({ code: 'custom', message: 'use at least 16 characters' }); return z.NEVER; }
  return raw;
});

const queuePrefix = z.string().transform((raw, ctx) => {
  if (!/^[A-Za-z0-9_-]+$/.test(raw.trim())) {
    ctx.addIssue({ code: 'custom', message: 'use letters, digits, "_" or "-" only' });
    return z.NEVER;
  }
  return raw.trim();
});

/** OPENAI_MODEL_MAP: `name=model-id,…` → { name: model-id }. */
const modelMap = z.string().transform((raw, ctx) => {
  const out: Record<string, string> = {};
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([^=\s]+)\s*=\s*([A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(item);
    if (!m) { ctx.addIssue({ code: 'custom', message: `"${item}" is not name=model-id` }); return z.NEVER; }
    out[m[1]] = m[2];
  }
  return out;
});

/** A1111_API_AUTH: `user:pass,…` (as A1111's --api-auth) → [{ user, password }]. */
const basicCredentials = z.string().transform((raw, ctx) => {
  const out: Array<{ user: string; password: string }> = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const colon = item.indexOf(':');
    if (colon <= 0 || colon === item.length - 1) { ctx.addIssue({ code: 'custom', message: 'expected user:password pairs separated by commas' }); return z.NEVER; }
    out.push({ user: item.slice(0, colon), password: item.slice(colon + 1) });
  }
  return out;
});

const watermarkPayload = nonEmpty.refine(
  (v) => /^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(v) ? Number(v) <= 0xffffffff : Buffer.byteLength(v, 'utf8') <= 32,
  'a 32-bit number (decimal or 0x hex) or a text of at most 32 bytes',
);

interface VariableSpec extends VariableDoc { schema: z.ZodType<unknown, string> }

const SPECS: VariableSpec[] = [
  { name: 'PORT', default: '8080', description: 'TCP port the API listens on.', schema: intVar(0, 65535) },
  { name: 'HOST', default: '0.0.0.0', description: 'Interface the API binds to.', schema: nonEmpty },
  { name: 'REDIS_URL', default: undefined, description: 'Redis for the queue and job records (redis:// or rediss://). Unset: a private redis-server is started on a free loopback port (data in .data/redis); a Redis on 127.0.0.1:6379 is used only when named here.', schema: urlVar(['redis:', 'rediss:']) },
  { name: 'STORAGE_URL', default: 'file://./.data/storage', description: 'Where images go: s3://bucket/prefix or file://path (served by the API under signed, expiring URLs).', schema: storageUrl },
  { name: 'S3_ENDPOINT', default: undefined, description: 'S3 endpoint for non-AWS stores (MinIO: http://minio:9000). Unset: AWS.', schema: urlVar(['http:', 'https:']) },
  { name: 'S3_PUBLIC_ENDPOINT', default: undefined, description: 'Endpoint written into presigned URLs when clients reach the store at another address than the services do (compose: services use http://minio:9000, clients http://localhost:9000). Unset: S3_ENDPOINT.', schema: urlVar(['http:', 'https:']) },
  { name: 'S3_REGION', default: 'us-east-1', description: 'S3 region (any value for MinIO).', schema: nonEmpty },
  { name: 'S3_FORCE_PATH_STYLE', default: 'false', description: 'Path-style bucket addressing (true for MinIO and most self-hosted stores).', schema: booleanVar },
  { name: 'AWS_ACCESS_KEY_ID', default: undefined, description: 'S3 credentials, read by the AWS SDK (with AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE and the rest of its default chain).', schema: z.string() },
  { name: 'AWS_SECRET_ACCESS_KEY', default: undefined, description: 'S3 secret key, read by the AWS SDK.', schema: z.string() },
  { name: 'STORAGE_PUBLIC_BASE_URL', default: undefined, description: 'Public base URL of the bucket (CDN, public-read bucket); result URLs become <base>/<key> instead of presigned URLs.', schema: urlVar(['http:', 'https:']) },
  { name: 'SIGNED_URL_TTL_SECONDS', default: '3600', description: 'Lifetime of presigned S3 URLs and signed file URLs (max 7 days, the S3 limit).', schema: intVar(1, 604800) },
  { name: 'PUBLIC_BASE_URL', default: 'http://localhost:$PORT', description: 'Base URL clients reach the API at: used for file-store image URLs and Location headers.', schema: urlVar(['http:', 'https:']) },
  { name: 'FILE_URL_SECRET', default: undefined, description: 'HMAC key of file-store URLs (at least 16 characters). Unset: a random key is created once in <storage root>/.url-secret and shared by the processes using that folder (a warning is logged).', schema: fileUrlSecret },
  { name: 'MODELS_DIR', default: './models', description: 'Folder with one sub-folder per model; the folder name is the model id.', schema: nonEmpty },
  { name: 'DEFAULT_MODEL', default: 'tiny-sd15', description: 'Model used when a job names none.', schema: nonEmpty },
  { name: 'LORA_DIR', default: './loras', description: 'Folder of LoRA adapters (.safetensors, kohya/A1111, diffusers or PEFT keys); a LoRA\'s id is its path below the folder without the extension. Read by the API (GET /v1/loras, job checks) and the workers.', schema: nonEmpty },
  { name: 'MAX_LORAS_PER_JOB', default: '4', description: 'Most LoRAs one job may apply (the loras field and <lora:…> prompt tags together).', schema: intVar(0, 32) },
  { name: 'ALLOW_LORA_URLS', default: 'false', description: 'Accept loras: [{url: "https://…"}] in jobs: fetched by the API and the workers under the image URL rules (ALLOW_PRIVATE_URLS, IMAGE_FETCH_TIMEOUT_MS), at most MAX_LORA_BYTES, kept in LORA_CACHE_DIR by sha256.', schema: booleanVar },
  { name: 'MAX_LORA_BYTES', default: '512MiB', description: 'Largest LoRA file fetched from a URL.', schema: bytesVar },
  { name: 'LORA_CACHE_DIR', default: './.data/lora-cache', description: 'Where LoRAs fetched from URLs are kept, as <sha256>.safetensors (each process fetches a URL once).', schema: nonEmpty },
  { name: 'WEBHOOK_SECRET', default: undefined, description: 'Standard Webhooks signing secret, whsec_<base64 of 24-64 bytes>. Unset: webhooks are disabled and a job that asks for one is refused with 400 webhooks_not_configured (a random secret would give signatures nobody can check).', schema: webhookSecret },
  { name: 'WEBHOOK_RETRY_SCHEDULE', default: DEFAULT_WEBHOOK_RETRY_SCHEDULE, description: 'Delay before each webhook attempt (the first is the first attempt): 0 or numbers with ms, s, m, h, d.', schema: durationListVar },
  { name: 'WEBHOOK_TIMEOUT_MS', default: '15000', description: 'Timeout of one webhook attempt.', schema: intVar(1) },
  { name: 'ALLOW_PRIVATE_URLS', default: 'false', description: 'Allow webhook and image URLs that resolve to loopback, private, link-local or metadata addresses (and plain http). Tests and closed networks only.', schema: booleanVar },
  { name: 'API_KEYS', default: '', description: 'Comma-separated keys accepted as Authorization: Bearer <key>. Empty (and no API_KEYS_FILE / ADMIN_API_KEYS): no authentication.', schema: listVar() },
  { name: 'API_KEYS_FILE', default: undefined, description: 'File of named keys, one name:sha256-hex-of-key per line (# comments); re-read on SIGHUP. The name, never the key, is logged.', schema: nonEmpty },
  { name: 'ADMIN_API_KEYS', default: '', description: 'Comma-separated admin keys: they also authenticate, and see and cancel every key\'s jobs.', schema: listVar() },
  { name: 'RATE_LIMIT_PER_MINUTE', default: '60', description: 'Job submissions per key per minute, counted in Redis across API instances (429 rate_limited past it). 0: no limit. Only with authentication.', schema: intVar(0) },
  { name: 'MAX_ACTIVE_JOBS_PER_KEY', default: '10', description: 'Queued + running jobs one key may have (429 quota_exceeded past it). 0: no limit. Only with authentication.', schema: intVar(0) },
  { name: 'MAX_OUTPUT_PIXELS', default: undefined, description: 'Largest width × height of a job (400 limit_exceeded). Unset: 4 × the model\'s native pixel count (1024 × 1024 for a 512 px model).', schema: intVar(1) },
  { name: 'MAX_STEPS', default: '150', description: 'Largest steps of a job (400 limit_exceeded).', schema: intVar(1, 150) },
  { name: 'MAX_NUM_IMAGES', default: '8', description: 'Largest num_images of a job (400 limit_exceeded).', schema: intVar(1, 8) },
  { name: 'MODEL_LIMITS', default: undefined, description: 'Per-model overrides of the three limits above, JSON: {"<model id>": {"max_output_pixels": n, "max_steps": n, "max_num_images": n}}.', schema: modelLimitsVar },
  { name: 'ROLE', default: 'all', description: 'What this process runs: api, worker or all (both in one process).', schema: enumVar(ROLES) },
  { name: 'LOG_LEVEL', default: 'info', description: `pino log level: ${LOG_LEVELS.join(', ')}.`, schema: enumVar(LOG_LEVELS) },
  { name: 'QUEUE_PREFIX', default: 'sdsvc', description: 'Prefix of every Redis key (job records and BullMQ queues).', schema: queuePrefix },
  { name: 'WORKER_CONCURRENCY', default: '1', description: 'Jobs a worker process runs at once (one per device is best).', schema: intVar(1, 64) },
  { name: 'WORKER_MODELS', default: '', description: 'Model ids this worker holds and takes jobs for (its own queue per model). Empty: every usable model in MODELS_DIR. Give a fleet\'s hosts different lists (or different model folders) to spread models over GPUs.', schema: listVar() },
  { name: 'WORKER_HEARTBEAT_MS', default: '5000', description: 'How often a worker renews its registration (models held, capabilities) in Redis; it counts as gone after three missed beats, and at once when it stops.', schema: intVar(200, 600000) },
  { name: 'QUEUE_WITHOUT_WORKERS', default: 'false', description: 'true: accept jobs for a model no live worker holds (they wait in its queue until one starts). false: answer 503 model_unavailable with Retry-After.', schema: booleanVar },
  { name: 'WORKER_LOCK_DURATION_MS', default: '60000', description: 'BullMQ lock on a running job; the worker renews it every half period while the job runs. A worker that dies (crash, OOM, SIGKILL) loses it and its job runs again elsewhere after at most lock + stalled interval.', schema: intVar(1000) },
  { name: 'WORKER_STALLED_INTERVAL_MS', default: '30000', description: 'How often a worker looks for jobs whose lock expired (a dead worker\'s) and puts them back in the queue; a job is re-run until its worker has been lost JOB_ATTEMPTS times, then it ends failed (worker_lost).', schema: intVar(1000) },
  { name: 'JOB_ATTEMPTS', default: '3', description: 'Attempts of a generation job before it ends failed: runs after a storage or transient error, and times its worker may be lost (then worker_lost).', schema: intVar(1, 20) },
  { name: 'JOB_TIMEOUT_MS', default: '900000', description: 'Deadline of one run of a generation job, from its start (15 min by default): past it the job stops between two steps, ends failed with code timeout (not retried) and the worker takes the next job. 0: no deadline.', schema: intVar(0) },
  { name: 'RESULT_TTL', default: '7d', description: 'How long a job lives after its last change: then its record, stored inputs and output images are deleted (by the workers\' reconciler). Numbers with s, m, h, d.', schema: durationVar },
  { name: 'RECONCILE_INTERVAL_MS', default: '15000', description: 'How often one worker process checks unfinished jobs against the queue (requeues a job whose queue entry is gone, fails one the queue failed without us: worker_lost) and deletes jobs past RESULT_TTL. A job is checked once unchanged for this long.', schema: intVar(100) },
  { name: 'EXECUTION_PROVIDERS', default: 'cpu', description: `ONNX Runtime execution providers in order of preference: ${EXECUTION_PROVIDERS.join(', ')}. Only listed ones are used: list \`cpu\` last to fall back to the CPU when the others cannot load.`, schema: listVar(EXECUTION_PROVIDERS) },
  { name: 'ORT_CPU_MEM_ARENA', default: 'false', description: 'ONNX Runtime CPU memory arena for the UNet: true keeps its peak activations for the life of the process (~5 % faster steps on CPU, peak RSS 1.57× the weights for SD 1.5 at 512²); false returns them after every call (1.42×).', schema: booleanVar },
  { name: 'BATCH_MAX_JOBS', default: '1', description: 'Compatible jobs (same model, LoRAs, size, scheduler, steps, strength, CFG on/off) a worker runs as one denoising batch; 1: off. The worker takes up to this many jobs at once (at least WORKER_CONCURRENCY). Pays at small sizes on CPU and on GPUs; at 512² on CPU a UNet call is already full.', schema: intVar(1, 64) },
  { name: 'BATCH_WAIT_MS', default: '0', description: 'How long a job waits for compatible companions before its batch starts (0: only jobs already waiting, and those that arrive while the engine is busy).', schema: intVar(0, 60000) },
  { name: 'MODEL_CACHE_MAX', default: '2', description: 'Models a worker keeps loaded; the least recently used is released when another loads (a later job for it loads it again).', schema: intVar(1, 64) },
  { name: 'MODEL_CACHE_BYTES', default: '0', description: 'Weight bytes a worker keeps loaded (e.g. 8GiB), models and LoRA-merged copies together; least recently used released first. 0: no byte limit (MODEL_CACHE_MAX only).', schema: bytesOrZero },
  { name: 'WARMUP_SIZES', default: undefined, description: 'Sizes each model is warmed up at when it loads (e.g. 512x512,768x768): the first job at a warmed size runs at steady speed; the worker is ready after the default model\'s warm-up. Unset: the model\'s native size; empty or none: no warm-up.', schema: sizesVar },
  { name: 'MAX_BODY_BYTES', default: '32MiB', description: 'Largest request body (JSON or multipart); room for two base64 images at MAX_IMAGE_BYTES. Larger: 413.', schema: bytesVar },
  { name: 'MAX_IMAGE_BYTES', default: '10MiB', description: 'Largest input image (decoded bytes, or fetched from a URL). Larger: 413.', schema: bytesVar },
  { name: 'MAX_IMAGE_PIXELS', default: '16777216', description: 'Largest input image in pixels (4096 × 4096), checked before decoding.', schema: intVar(1) },
  { name: 'IMAGE_FETCH_TIMEOUT_MS', default: '10000', description: 'Timeout for fetching an https image URL.', schema: intVar(1) },
  { name: 'SHUTDOWN_GRACE_MS', default: '25000', description: 'On SIGTERM, how long a worker lets its job finish before handing it back to the queue (keep below the orchestrator\'s kill timeout).', schema: intVar(0) },
  { name: 'WORKER_HEALTH_PORT', default: undefined, description: 'Port of the worker\'s health server (GET /healthz, GET /readyz: Redis reachable and the engine alive with DEFAULT_MODEL loaded), in worker processes (ROLE=worker or all). Unset: no health server; 0: a free port (logged). The worker image sets 8081.', schema: intVar(0, 65535) },
  { name: 'METRICS_TOKEN', default: undefined, description: 'When set, GET /metrics (API and worker health port) needs Authorization: Bearer <token>. Unset: /metrics is open.', schema: nonEmpty },
  { name: 'ADMIN_TOKEN', default: undefined, description: 'Token for the queue dashboard (/admin/queues: Bearer, or the HTTP Basic password) while no API keys are configured; with keys, an admin key (ADMIN_API_KEYS) is needed. Unset and no keys: the dashboard is off.', schema: nonEmpty },
  { name: 'PROMPT_BLOCKLIST_FILE', default: undefined, description: 'Prompt blocklist: one term or /regex/ per line (# comments); a matching prompt is refused with 400 prompt_blocked. A coarse filter.', schema: nonEmpty },
  { name: 'SAFETY_CHECKER_MODEL', default: undefined, description: 'Folder with a diffusers safety checker export (safety_checker/model.onnx + feature_extractor/) used for every model; unset: a model folder\'s own checker, if it has one.', schema: nonEmpty },
  { name: 'SAFETY_MODE', default: undefined, description: 'What the image safety checker does with a flagged image: off, flag (nsfw: true on the image; the default when a checker exists), blur (store a heavily blurred image), block (store nothing for it).', schema: enumVar(['off', 'flag', 'blur', 'block'] as const) },
  { name: 'SAFETY_EXEMPT_KEYS', default: '', description: 'Names of API keys (API_KEYS_FILE names, or the keys themselves for API_KEYS) allowed to send safety: false on a job.', schema: listVar() },
  { name: 'OPENAI_MODEL_MAP', default: '', description: 'OpenAI model names → model ids for /v1/images/* (name=model-id,…, e.g. dall-e-3=sd15,gpt-image-1=sd15). OpenAI names not listed (dall-e-2, dall-e-3, gpt-image-*) use DEFAULT_MODEL.', schema: modelMap },
  { name: 'OPENAI_WAIT_TIMEOUT_S', default: '600', description: 'How long /v1/images/* requests wait for their jobs; then the jobs are canceled and the request answers 504.', schema: intVar(1, 86400) },
  { name: 'A1111_API', default: 'true', description: 'Serve the AUTOMATIC1111 API (/sdapi/v1/*). false: those routes answer 404.', schema: booleanVar },
  { name: 'A1111_API_AUTH', default: undefined, description: 'HTTP Basic credentials accepted on /sdapi/v1/* (user:pass,…, as A1111\'s --api-auth); API_KEYS bearer keys work there too. Unset (and no API_KEYS): the A1111 API is open.', schema: basicCredentials },
  { name: 'MAX_ANIMATION_FRAMES', default: '120', description: 'Most frames an animation job may ask for (each frame is one img2img run).', schema: intVar(2, 1000) },
  { name: 'WATERMARK', default: 'false', description: 'Embed an invisible DWT-DCT watermark (WATERMARK_PAYLOAD) in every generated image; `npm run generate -- --detect-watermark FILE` reads it.', schema: booleanVar },
  { name: 'WATERMARK_PAYLOAD', default: 'sdsvc', description: 'Watermark payload: a 32-bit number (decimal or 0x hex) or a text of at most 32 bytes.', schema: watermarkPayload },
];

export const VARIABLES: readonly VariableDoc[] = SPECS.map(({ name, default: d, description }) => ({ name, default: d, description }));
export const VARIABLE_NAMES: ReadonlySet<string> = new Set(SPECS.map((s) => s.name));
export const VARIABLE_SPECS: readonly VariableSpec[] = SPECS;
