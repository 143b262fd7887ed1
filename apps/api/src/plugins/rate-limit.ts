// RATE_LIMIT_PER_MINUTE: job submissions per key, counted in Redis (@fastify/rate-limit's Redis
// store) so the limit holds across API instances. Routes that create jobs opt in with
// `config: { submission: true }` (every adapter's submit route); other routes are not counted.
// Only authenticated callers are limited (the limit is per key; without keys the API is open).
//
// Redis down: FAIL-OPEN. The counter uses its own connection with no offline queue and a short
// command timeout, so a dead Redis answers at once instead of hanging the request; the request
// then goes on uncounted (and, Redis being down, submitting fails with 503 anyway).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { HttpProblem } from '../problem.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route creates jobs: RATE_LIMIT_PER_MINUTE applies (plugins/rate-limit.ts). */
    submission?: boolean;
  }
}

export interface RateLimitOptions {
  redis: Redis;
  prefix: string;
  perMinute: number;
  /** The counting window (default one minute; tests shorten it). */
  windowMs?: number;
  /** Command timeout of the counter's connection (default 500 ms). */
  commandTimeoutMs?: number;
}

export const rateLimitPlugin = fp(async (app: FastifyInstance, opts: RateLimitOptions) => {
  if (opts.perMinute <= 0) return;
  const redis = opts.redis.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: opts.commandTimeoutMs ?? 500 });
  redis.on('error', () => {}); // reported by the main connection; here an error just means "not counted"
  app.addHook('onClose', async () => { redis.disconnect(); });
  const windowMs = opts.windowMs ?? 60_000;

  await app.register(rateLimit, {
    global: true,
    max: opts.perMinute,
    timeWindow: windowMs,
    redis,
    nameSpace: `${opts.prefix}:rate-limit:`,
    skipOnError: true,
    enableDraftSpec: true, // RateLimit-Limit / -Remaining / -Reset and Retry-After
    keyGenerator: (req) => req.callerId,
    allowList: (req) => req.routeOptions.config?.submission !== true || req.callerId === '',
    errorResponseBuilder: (_req, ctx) => new HttpProblem(429, 'rate_limited',
      `more than ${ctx.max} job submissions in ${Math.round(windowMs / 1000)} s for this key; retry in ${ctx.after}`,
      { headers: { 'retry-after': String(Math.max(1, Math.ceil(ctx.ttl / 1000))) } }),
  });
}, { name: 'rate-limit', dependencies: ['auth'] });
