// The process entry behind `npm start` (ROLE=all), `ROLE=api` and `ROLE=worker`: config, the
// embedded defaults (Redis found or started), the parts the role asks for, and graceful shutdown.
import { resolve } from 'node:path';
import { ConfigError, loadConfig, type Config, type Role } from '@sdsvc/config';
import { createLogger, type Logger } from '@sdsvc/logging';
import { resolveRedis } from './embedded-redis.ts';
import { onShutdownSignal } from './shutdown.ts';

interface Closable { close(): Promise<void> }

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

  const parts: Closable[] = []; // closed in reverse start order
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
      parts.push(await startWorker({ config, logger }));
    }
    if (role === 'api' || role === 'all') {
      if (!opts.startApi) throw new Error(`ROLE=${role} needs the API: start it with apps/api/src/main.ts`);
      parts.push(await opts.startApi(config, { logger }));
    }
  } catch (err) {
    logger.fatal({ err }, `cannot start: ${(err as Error).message}`);
    await closeAll(parts, logger);
    await redisStop().catch(() => {});
    logger.flush?.();
    process.exit(1);
  }
  logger.info({ role }, 'service started');

  onShutdownSignal(logger, async () => {
    await closeAll(parts, logger);
    await redisStop();
  });
}

async function closeAll(parts: Closable[], logger: Logger): Promise<void> {
  // API first (no new submissions), then the workers (hand back running jobs).
  for (const part of [...parts].reverse()) {
    await part.close().catch((err: unknown) => logger.error({ err }, 'error during shutdown'));
  }
}
