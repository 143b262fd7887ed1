// loadConfig: parse every variable, collect every problem, then throw one ConfigError naming them all.
import { resolve } from 'node:path';
import { parseStorageUrl, type StorageLocation } from './storage-url.ts';
import { EXECUTION_PROVIDERS, LOG_LEVELS, ROLES, VARIABLE_SPECS } from './variables.ts';
import type { CostLimitOverrides } from './model-limits.ts';

export type Role = (typeof ROLES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export type SafetyMode = 'off' | 'flag' | 'blur' | 'block';

export interface Config {
  port: number;
  host: string;
  /** Undefined: the caller starts a private redis-server (never an unnamed Redis on 6379). */
  redisUrl: string | undefined;
  storageUrl: string;
  storage: StorageLocation;
  s3: { endpoint: string | undefined; publicEndpoint?: string; region: string; forcePathStyle: boolean };
  storagePublicBaseUrl: string | undefined;
  signedUrlTtlSeconds: number;
  /** No trailing slash. */
  publicBaseUrl: string;
  /** Undefined: the file store keeps a random key in <root>/.url-secret. */
  fileUrlSecret: string | undefined;
  /** Absolute. */
  modelsDir: string;
  defaultModel: string;
  /** LORA_DIR, absolute. */
  loraDir: string;
  maxLorasPerJob: number;
  /** ALLOW_LORA_URLS. */
  allowLoraUrls: boolean;
  maxLoraBytes: number;
  /** LORA_CACHE_DIR, absolute. */
  loraCacheDir: string;
  /** Undefined: webhooks disabled, submissions asking for one get 400 webhooks_not_configured. */
  webhookSecret: string | undefined;
  /** Milliseconds to wait before attempt i (index 0 = first attempt). */
  webhookRetrySchedule: number[];
  webhookTimeoutMs: number;
  allowPrivateUrls: boolean;
  /** Empty (and no apiKeysFile / adminApiKeys): no authentication. */
  apiKeys: string[];
  /** API_KEYS_FILE, resolved: `name:sha256hex` lines, re-read on SIGHUP. */
  apiKeysFile: string | undefined;
  adminApiKeys: string[];
  /** Submissions per key per minute; 0 = unlimited. */
  rateLimitPerMinute: number;
  /** Queued + running jobs per key; 0 = unlimited. */
  maxActiveJobsPerKey: number;
  /** Undefined: 4 × the model's native pixel count. */
  maxOutputPixels: number | undefined;
  maxSteps: number;
  maxNumImages: number;
  /** MODEL_LIMITS: per-model overrides by model id. */
  modelLimits: Record<string, CostLimitOverrides>;
  /** PROMPT_BLOCKLIST_FILE, resolved. */
  promptBlocklistFile: string | undefined;
  /** SAFETY_CHECKER_MODEL, resolved. */
  safetyCheckerModel: string | undefined;
  /** SAFETY_MODE; undefined = flag when a checker exists, else off. */
  safetyMode: SafetyMode | undefined;
  safetyExemptKeys: string[];
  /** MAX_ANIMATION_FRAMES. */
  maxAnimationFrames: number;
  /** WATERMARK, WATERMARK_PAYLOAD. */
  watermark: boolean;
  watermarkPayload: string;
  role: Role;
  logLevel: LogLevel;
  queuePrefix: string;
  workerConcurrency: number;
  /** WORKER_MODELS: [] = every usable model in MODELS_DIR. */
  workerModels: string[];
  /** WORKER_HEARTBEAT_MS: registry renewal period (live for 3 periods). */
  workerHeartbeatMs: number;
  /** QUEUE_WITHOUT_WORKERS: accept jobs for models no live worker holds. */
  queueWithoutWorkers: boolean;
  /** BullMQ lockDuration of a running job (renewed every half period). */
  workerLockDurationMs: number;
  /** BullMQ stalledInterval: how often expired locks are looked for. */
  workerStalledIntervalMs: number;
  jobAttempts: number;
  /** Deadline of one run of a job in ms (JOB_TIMEOUT_MS); 0: none. */
  jobTimeoutMs: number;
  /** RESULT_TTL in ms: a job (record, inputs, outputs) is deleted this long after its last change. */
  resultTtlMs: number;
  /** RECONCILE_INTERVAL_MS: reconciler period (one process at a time). */
  reconcileIntervalMs: number;
  executionProviders: ExecutionProvider[];
  ortCpuMemArena: boolean;
  /** BATCH_MAX_JOBS (1 = off) / BATCH_WAIT_MS: cross-request batching in the worker. */
  batchMaxJobs: number;
  batchWaitMs: number;
  /** MODEL_CACHE_MAX / MODEL_CACHE_BYTES (0 = no byte limit): the engine thread's model cache. */
  modelCacheMax: number;
  modelCacheBytes: number;
  /** WARMUP_SIZES: undefined = each model's native size; [] = no warm-up. */
  warmupSizes?: Array<{ width: number; height: number }>;
  maxBodyBytes: number;
  maxImageBytes: number;
  maxImagePixels: number;
  imageFetchTimeoutMs: number;
  shutdownGraceMs: number;
  /** Worker health server port (WORKER_HEALTH_PORT); undefined: none. */
  workerHealthPort: number | undefined;
  /** Bearer token required by GET /metrics; undefined: open. */
  metricsToken: string | undefined;
  /** Bearer token of the queue dashboard when no admin API keys are configured. */
  adminToken: string | undefined;
  /** OPENAI_MODEL_MAP: OpenAI model name → model id. */
  openaiModelMap: Record<string, string>;
  openaiWaitTimeoutS: number;
  /** A1111_API: serve /sdapi/v1/*. */
  a1111Api: boolean;
  /** A1111_API_AUTH: accepted HTTP Basic credentials (empty: none). */
  a1111ApiAuth: Array<{ user: string; password: string }>;
  /** Things worth logging at start (insecure or degraded defaults). */
  warnings: string[];
}

export interface ConfigProblem { variable: string; message: string }

export class ConfigError extends Error {
  readonly code = 'invalid_config';
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n`
      + problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions { cwd?: string }

export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: LoadConfigOptions = {}): Config {
  const cwd = opts.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const v: Record<string, unknown> = {};
  for (const spec of VARIABLE_SPECS) {
    const given = env[spec.name];
    // Empty counts as unset: compose's `${VAR:-}` and shell exports often leave empty strings.
    // (WARMUP_SIZES: empty means "no warm-up", unset means the native size.)
    const raw = given !== undefined && (given.trim() !== '' || spec.name === 'WARMUP_SIZES') ? given
      : spec.name === 'API_KEYS' || spec.name === 'ADMIN_API_KEYS' ? '' : spec.default;
    if (raw === undefined || raw.includes('$PORT')) continue; // unset optional, or derived below
    const r = spec.schema.safeParse(raw);
    if (r.success) v[spec.name] = r.data;
    else problems.push({ variable: spec.name, message: r.error.issues.map((i) => i.message).join('; ') });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const port = v.PORT as number;
  const storageUrl = v.STORAGE_URL as string;
  const storage = parseStorageUrl(storageUrl, cwd) as StorageLocation;
  const publicBaseUrl = ((v.PUBLIC_BASE_URL as string | undefined) ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const storagePublicBaseUrl = (v.STORAGE_PUBLIC_BASE_URL as string | undefined)?.replace(/\/+$/, '');

  const warnings: string[] = [];
  if (storage.kind === 'file' && v.FILE_URL_SECRET === undefined) {
    warnings.push(`FILE_URL_SECRET is unset: file URLs are signed with a random key kept in ${storage.root}/.url-secret`);
  }
  if (v.WEBHOOK_SECRET === undefined) {
    warnings.push('WEBHOOK_SECRET is unset: webhooks are disabled (jobs asking for one are refused)');
  }
  if (v.ALLOW_PRIVATE_URLS === true) {
    warnings.push('ALLOW_PRIVATE_URLS=true: webhook and image URLs may reach loopback, private and metadata addresses');
  }
  if ((v.API_KEYS as string[]).length === 0 && v.API_KEYS_FILE === undefined && (v.ADMIN_API_KEYS as string[]).length === 0) warnings.push('API_KEYS is empty: the API accepts requests without authentication');

  return {
    port,
    host: v.HOST as string,
    redisUrl: v.REDIS_URL as string | undefined,
    storageUrl,
    storage,
    s3: {
      endpoint: v.S3_ENDPOINT as string | undefined,
      publicEndpoint: v.S3_PUBLIC_ENDPOINT as string | undefined,
      region: v.S3_REGION as string,
      forcePathStyle: v.S3_FORCE_PATH_STYLE as boolean,
    },
    storagePublicBaseUrl,
    signedUrlTtlSeconds: v.SIGNED_URL_TTL_SECONDS as number,
    publicBaseUrl,
    fileUrlSecret: v.FILE_URL_SECRET as string | undefined,
    modelsDir: resolve(cwd, v.MODELS_DIR as string),
    defaultModel: v.DEFAULT_MODEL as string,
    loraDir: resolve(cwd, v.LORA_DIR as string),
    maxLorasPerJob: v.MAX_LORAS_PER_JOB as number,
    allowLoraUrls: v.ALLOW_LORA_URLS as boolean,
    maxLoraBytes: v.MAX_LORA_BYTES as number,
    loraCacheDir: resolve(cwd, v.LORA_CACHE_DIR as string),
    webhookSecret: v.WEBHOOK_SECRET as string | undefined,
    webhookRetrySchedule: v.WEBHOOK_RETRY_SCHEDULE as number[],
    webhookTimeoutMs: v.WEBHOOK_TIMEOUT_MS as number,
    allowPrivateUrls: v.ALLOW_PRIVATE_URLS as boolean,
    apiKeys: v.API_KEYS as string[],
    apiKeysFile: v.API_KEYS_FILE === undefined ? undefined : resolve(cwd, v.API_KEYS_FILE as string),
    adminApiKeys: (v.ADMIN_API_KEYS as string[] | undefined) ?? [],
    rateLimitPerMinute: v.RATE_LIMIT_PER_MINUTE as number,
    maxActiveJobsPerKey: v.MAX_ACTIVE_JOBS_PER_KEY as number,
    maxOutputPixels: v.MAX_OUTPUT_PIXELS as number | undefined,
    maxSteps: v.MAX_STEPS as number,
    maxNumImages: v.MAX_NUM_IMAGES as number,
    modelLimits: (v.MODEL_LIMITS as Record<string, CostLimitOverrides> | undefined) ?? {},
    promptBlocklistFile: v.PROMPT_BLOCKLIST_FILE === undefined ? undefined : resolve(cwd, v.PROMPT_BLOCKLIST_FILE as string),
    safetyCheckerModel: v.SAFETY_CHECKER_MODEL === undefined ? undefined : resolve(cwd, v.SAFETY_CHECKER_MODEL as string),
    safetyMode: v.SAFETY_MODE as SafetyMode | undefined,
    safetyExemptKeys: (v.SAFETY_EXEMPT_KEYS as string[] | undefined) ?? [],
    maxAnimationFrames: v.MAX_ANIMATION_FRAMES as number,
    watermark: v.WATERMARK as boolean,
    watermarkPayload: v.WATERMARK_PAYLOAD as string,
    role: v.ROLE as Role,
    logLevel: v.LOG_LEVEL as LogLevel,
    queuePrefix: v.QUEUE_PREFIX as string,
    workerConcurrency: v.WORKER_CONCURRENCY as number,
    workerModels: (v.WORKER_MODELS as string[] | undefined) ?? [],
    workerHeartbeatMs: v.WORKER_HEARTBEAT_MS as number,
    queueWithoutWorkers: v.QUEUE_WITHOUT_WORKERS as boolean,
    workerLockDurationMs: v.WORKER_LOCK_DURATION_MS as number,
    workerStalledIntervalMs: v.WORKER_STALLED_INTERVAL_MS as number,
    jobAttempts: v.JOB_ATTEMPTS as number,
    jobTimeoutMs: v.JOB_TIMEOUT_MS as number,
    resultTtlMs: v.RESULT_TTL as number,
    reconcileIntervalMs: v.RECONCILE_INTERVAL_MS as number,
    executionProviders: v.EXECUTION_PROVIDERS as ExecutionProvider[],
    ortCpuMemArena: v.ORT_CPU_MEM_ARENA as boolean,
    batchMaxJobs: v.BATCH_MAX_JOBS as number,
    batchWaitMs: v.BATCH_WAIT_MS as number,
    modelCacheMax: v.MODEL_CACHE_MAX as number,
    modelCacheBytes: v.MODEL_CACHE_BYTES as number,
    warmupSizes: v.WARMUP_SIZES as Array<{ width: number; height: number }> | undefined,
    maxBodyBytes: v.MAX_BODY_BYTES as number,
    maxImageBytes: v.MAX_IMAGE_BYTES as number,
    maxImagePixels: v.MAX_IMAGE_PIXELS as number,
    imageFetchTimeoutMs: v.IMAGE_FETCH_TIMEOUT_MS as number,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS as number,
    workerHealthPort: v.WORKER_HEALTH_PORT as number | undefined,
    metricsToken: v.METRICS_TOKEN as string | undefined,
    adminToken: v.ADMIN_TOKEN as string | undefined,
    openaiModelMap: (v.OPENAI_MODEL_MAP as Record<string, string> | undefined) ?? {},
    openaiWaitTimeoutS: v.OPENAI_WAIT_TIMEOUT_S as number,
    a1111Api: v.A1111_API as boolean,
    a1111ApiAuth: (v.A1111_API_AUTH as Array<{ user: string; password: string }> | undefined) ?? [],
    warnings,
  };
}
