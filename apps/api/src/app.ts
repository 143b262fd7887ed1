// The Fastify app, built from encapsulated plugins. No listening, no process concerns: tests use
// `inject`, server.ts listens.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { PromptPolicy } from '@sdsvc/safety';
import { WorkerRegistry } from '@sdsvc/jobs';
import { JobService, loraUrlCacheFor, ModelCatalog, WorkerDirectory } from '@sdsvc/submission';
import type { AppDeps } from './deps.ts';
import { makeJobView } from './job-view.ts';
import { bodyKindConstraint } from './submission/body-kind.ts';
import { safetyExemptPlugin } from './plugins/safety-exempt.ts';
import { authPlugin } from './plugins/auth.ts';
import { rateLimitPlugin } from './plugins/rate-limit.ts';
import { underPressurePlugin } from './plugins/under-pressure.ts';
import { errorsPlugin } from './plugins/errors.ts';
import { genRequestId, requestIdPlugin } from './plugins/request-id.ts';
import { httpMetricsPlugin } from './plugins/http-metrics.ts';
import { operationsRoutes } from './routes/operations.ts';
import { filesRoutes } from './routes/files.ts';
import { healthRoutes } from './routes/health.ts';
import { jobsCreateRoutes } from './routes/jobs-create.ts';
import { jobsEventsRoutes } from './routes/jobs-events.ts';
import { jobsReadRoutes } from './routes/jobs-read.ts';
import { modelsRoutes } from './routes/models.ts';
import { workersRoutes } from './routes/workers.ts';
import { lorasRoutes } from './routes/loras.ts';
import { LoraLibrary } from '@sdsvc/lora';
import { a1111Adapter } from './adapters/a1111/index.ts';
import { openaiAdapter } from './adapters/openai/index.ts';

export type { AppDeps } from './deps.ts';

/** Receiving a whole request (headers + body) may take this long: slow senders cannot hold sockets. */
export const REQUEST_TIMEOUT_MS = 120_000;
/** Socket inactivity limit: above Prefer: wait's 60 s of silence; SSE streams write every 15 s. */
export const CONNECTION_TIMEOUT_MS = 90_000;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the instance type the default one.
    loggerInstance: deps.logger as FastifyBaseLogger,
    genReqId: genRequestId,
    logController: new LogController({ requestIdLogLabel: 'request_id' }),
    bodyLimit: deps.config.maxBodyBytes,
    return503OnClosing: true,
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    routerOptions: { constraints: { bodyKind: bodyKindConstraint } },
  });
  // Models: what live workers announce in the registry, and MODELS_DIR when mounted here too.
  const workers = new WorkerDirectory(new WorkerRegistry(deps.redis, { prefix: deps.store.prefix }), {
    refreshMs: deps.workerRefreshMs,
    onError: () => { /* Redis outages are logged by the connection; the last reading stays */ },
  });
  await workers.start();
  const catalog = new ModelCatalog(deps.config.modelsDir, {
    workers,
    onProblem: (p) => deps.logger.warn({ model: p.id, dir: p.dir, kind: p.kind, reason: p.message }, `model "${p.id}" skipped: ${p.message}`),
  });
  // Scan once at start so unusable folders are reported now; a missing MODELS_DIR is only logged
  // (requests naming a model answer unknown_model, /v1/models retries the scan).
  await catalog.scan().catch((err: Error) => deps.logger.warn({ err: err.message, dir: deps.config.modelsDir }, 'could not list MODELS_DIR'));
  const view = makeJobView(deps);
  // The one submission path: every protocol adapter submits, reads and cancels through it.
  const promptPolicy = deps.config.promptBlocklistFile ? await PromptPolicy.fromFile(deps.config.promptBlocklistFile) : undefined;
  if (promptPolicy) deps.logger.info({ entries: promptPolicy.size }, 'prompt blocklist loaded');
  const loras = new LoraLibrary(deps.config.loraDir ?? 'loras');
  const c = deps.config;
  const loraUrls = c.allowLoraUrls ? loraUrlCacheFor({
    loraCacheDir: c.loraCacheDir ?? '.data/lora-cache', maxLoraBytes: c.maxLoraBytes ?? 512 * 2 ** 20,
    imageFetchTimeoutMs: c.imageFetchTimeoutMs, allowPrivateUrls: c.allowPrivateUrls,
  }) : undefined;
  const jobs = new JobService({ ...deps, catalog, promptPolicy, loras, loraUrls });

  await app.register(errorsPlugin);
  await app.register(requestIdPlugin);
  await app.register(httpMetricsPlugin, { registry: deps.metricsRegistry });
  await app.register(underPressurePlugin, deps.underPressure ?? {});
  await app.register(authPlugin, { apiKeys: deps.config.apiKeys, adminApiKeys: deps.config.adminApiKeys, apiKeysFile: deps.config.apiKeysFile });
  await app.register(safetyExemptPlugin, { exemptKeys: deps.config.safetyExemptKeys ?? [] });
  await app.register(rateLimitPlugin, {
    redis: deps.redis, prefix: deps.store.prefix, perMinute: deps.config.rateLimitPerMinute ?? 0, windowMs: deps.rateLimitWindowMs,
  });
  await app.register(healthRoutes, { deps });
  await app.register(modelsRoutes, { catalog, defaultModel: deps.config.defaultModel, limits: deps.config, queueWithoutWorkers: deps.config.queueWithoutWorkers });
  await app.register(workersRoutes, { workers });
  await app.register(lorasRoutes, { library: loras });
  await app.register(jobsCreateRoutes, { jobs, view });
  await app.register(jobsReadRoutes, { jobs, view });
  await app.register(jobsEventsRoutes, { deps, view });
  await app.register(filesRoutes, { objectStore: deps.objectStore });
  // Compatibility adapters over the same job service: OpenAI Images (/v1/images/*), AUTOMATIC1111 (/sdapi/v1/*).
  await app.register(openaiAdapter, { jobs, modelMap: deps.config.openaiModelMap ?? {}, waitTimeoutS: deps.config.openaiWaitTimeoutS ?? 600 });
  if (deps.config.a1111Api ?? true) {
    await app.register(a1111Adapter, {
      jobs, redis: deps.redis, modelsDir: deps.config.modelsDir, defaultModel: deps.config.defaultModel, basicAuth: deps.config.a1111ApiAuth ?? [], loras,
    });
  }
  app.addHook('onClose', async () => { workers.close(); });
  await app.register(operationsRoutes, { deps, catalog }); // /metrics, /openapi.*, /docs, /admin/queues, playground at /
  return app;
}
