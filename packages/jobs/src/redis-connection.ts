// Redis connections that fail fast, and one typed error for "Redis cannot be reached": a request
// handler must answer while Redis is down (503 + Retry-After), never queue commands for ever.
// Only BullMQ's blocking *worker* connections keep `maxRetriesPerRequest: null`.
import { Redis, type RedisOptions } from 'ioredis';

/** How long one command may wait for its answer before it counts as "Redis unavailable". */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1500;

/**
 * Options of a command connection (API, readiness probes, BullMQ `Queue` producers):
 * - no offline queue: a command sent while disconnected is refused at once (and is never run
 *   later, after the caller was told it failed); in-flight commands are not resent either;
 * - `commandTimeout`: a command on a connection that looks open but no longer answers fails in
 *   time;
 * - reconnects for ever, at most 1 s apart, so the service recovers by itself.
 */
export function failFastRedisOptions(opts: { commandTimeoutMs?: number } = {}): RedisOptions {
  return {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    commandTimeout: opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  };
}

/** A fail-fast command connection (see failFastRedisOptions). */
export function createFailFastRedis(url: string, opts: { commandTimeoutMs?: number } = {}): Redis {
  return new Redis(url, failFastRedisOptions(opts));
}

/** Resolves once `redis` is connected, or after `ms` (false): start-up does not hang on Redis. */
export async function waitForRedisReady(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return await new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => { clearTimeout(timer); redis.off('ready', onReady); resolve(ok); };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    redis.on('ready', onReady);
  });
}

/** Redis could not be reached (refused, closed, timed out): try again later. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts);
  }
}

// ioredis reports connection trouble with plain Errors; these are its fixed messages (not text from
// Redis), plus socket error codes, its MaxRetriesPerRequestError and BullMQ's ConnectionClosedError.
const IOREDIS_MESSAGES = new Set([
  'Command timed out',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Connection is closed.',
]);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** The error as a RedisUnavailableError when it says Redis cannot be reached, else null. */
export function asRedisUnavailable(err: unknown): RedisUnavailableError | null {
  if (err instanceof RedisUnavailableError) return err;
  if (!(err instanceof Error)) return null;
  const code = (err as NodeJS.ErrnoException).code;
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'ConnectionClosedError' || IOREDIS_MESSAGES.has(err.message) || (code !== undefined && SOCKET_CODES.has(code))) {
    return new RedisUnavailableError(`Redis is unavailable: ${err.message}`, { cause: err });
  }
  return null;
}

export const isRedisUnavailable = (err: unknown): boolean => asRedisUnavailable(err) !== null;

/** QUIT, or a hard disconnect when Redis does not answer within `ms` (shutdown must not hang). */
export async function quitRedis(redis: Redis, ms = 1000): Promise<void> {
  if (redis.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); });
  await Promise.race([redis.quit().catch(() => {}), timeout]);
  clearTimeout(timer);
  redis.disconnect();
}
