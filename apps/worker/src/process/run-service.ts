// The process entry behind `npm start` (ROLE=all), `ROLE=api` and `ROLE=worker`: config, the
// embedded defaults (Redis found or started), the parts the role asks for, and graceful shutdown.
import { resolve } from 'node:path';
import { ConfigError, loadConfig, type Config, type Role } from '@sdsvc/config';
import { createFailFastRedis, quitRedis } from '@sdsvc/jobs';
import { createLogger, type Logger } from '@sdsvc/logging';
import { startHealthServer, type RunningHealthServer } from '../health-server.ts';
import { workerMetricsRoutes } from '../metrics/metrics-route.ts';
import { resolveRedis } from './embedded-redis.ts';
import { onShutdownSignal, SHUTDOWN_MARGIN_MS } from './shutdown.ts';

interface Closable { close(): Promise<void> }
/** The generate worker's own readiness (its Redis connection answers, engine thread alive, default model loaded). */
interface ReportsReadiness { ready(): Promise<{ ok: boolean; detail?: string }> }

export interface RunServiceOptions {
  /** Forced role (the worker-only entry); else ROLE from the environment. */
  role?: Role;
  /** Provided by apps/api (the worker package does not depend on the API). */
  startApi?: (config: Config, deps: { logger: Logger }) => Promise<Closable>;
}

export async function runService(opts: RunServiceOptions = {}): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const role = opts.role ?? config.role;
  const logger = createLogger({ level: config.logLevel, name: `sdsvc-${role}` });
  for (const warning of config.warnings) logger.warn(warning);

  const parts: Closable[] = []; // closed together on shutdown
  let health: RunningHealthServer | null = null;
  let redisStop = async () => {};
  try {
    const redis = await resolveRedis(config.redisUrl, resolve(process.cwd(), '.data/redis'));
    redisStop = () => redis.stop();
    config = { ...config, redisUrl: redis.url };
    logger.info({ source: redis.source, redis: redis.source === 'REDIS_URL' ? undefined : redis.url }, 'redis ready');

    if (role === 'worker' || role === 'all') {
      // Loaded only for worker roles: an API-only process never touches the engine.
      const { startWorker } = await import('../start-worker.ts');
      const { startWebhookDelivery } = await import('../webhook-delivery.ts');
      const delivery = await startWebhookDelivery({ config, logger });
      if (delivery) parts.push(delivery);
      const worker = await startWorker({ config, logger });
      parts.push(worker);
      if (config.workerHealthPort !== undefined) {
        health = await startWorkerHealth(config, config.workerHealthPort, worker, logger);
      }
    }
    if (role === 'api' || role === 'all') {
      if (!opts.startApi) throw new Error(`ROLE=${role} needs the API: start it with apps/api/src/main.ts`);
      parts.push(await opts.startApi(config, { logger }));
    }
  } catch (err) {
    logger.fatal({ err }, `cannot start: ${(err as Error).message}`);
    await closeAll(parts, logger);
    await health?.close().catch(() => {});
    await redisStop().catch(() => {});
    logger.flush?.();
    process.exit(1);
  }
  logger.info({ role }, 'service started');

  onShutdownSignal(logger, async () => {
    health?.markStopping();
    await closeAll(parts, logger);
    await health?.close();
    await redisStop();
  }, { deadlineMs: config.shutdownGraceMs + SHUTDOWN_MARGIN_MS });
}

async function closeAll(parts: Closable[], logger: Logger): Promise<void> {
  // Together: the worker's grace period (then hand-back) starts at once, while the API stops
  // taking requests and ends its streams; nothing waits for another part.
  await Promise.all(parts.map((part) => part.close().catch((err: unknown) => logger.error({ err }, 'error during shutdown'))));
}

/** WORKER_HEALTH_PORT: ready = Redis answers (a fail-fast probe: /readyz never waits for a
 *  reconnect) and the generate worker reports ready (engine alive, default model loaded). */
async function startWorkerHealth(config: Config, port: number, worker: Closable & ReportsReadiness, logger: Logger): Promise<RunningHealthServer> {
  // Its own fail-fast connection: a probe must answer "not ready", not wait for a reconnect.
  const probe = createFailFastRedis(config.redisUrl!);
  probe.on('error', () => { /* reported by /readyz */ });
  const server = await startHealthServer({
    port,
    logger,
    routes: workerMetricsRoutes({ token: config.metricsToken }), // GET /metrics (METRICS_TOKEN)
    ready: async () => {
      const [redis, engine] = await Promise.all([
        probe.ping().then(() => ({ ok: true }), (err: Error) => ({ ok: false, error: err.message })),
        worker.ready().catch((err: Error) => ({ ok: false, detail: err.message })),
      ]);
      return { ok: redis.ok && engine.ok, detail: { redis, worker: engine } };
    },
  });
  return {
    ...server,
    async close() {
      await server.close();
      await quitRedis(probe, 500);
    },
  };
}
