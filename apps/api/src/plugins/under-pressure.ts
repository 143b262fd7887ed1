// Overload protection (@fastify/under-pressure): when the event loop lags or the heap nears its
// limit, new requests get 503 overloaded with Retry-After at once instead of queueing up and
// slowing every request to death. /healthz stays answered (the process is alive, only busy).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import underPressure from '@fastify/under-pressure';
import { getHeapStatistics } from 'node:v8';
import { HttpProblem, sendProblem } from '../problem.ts';

export interface UnderPressureOptions {
  /** Mean event-loop delay over a sample (default 1000 ms). */
  maxEventLoopDelayMs?: number;
  /** Heap in use (default 90 % of V8's heap limit). */
  maxHeapUsedBytes?: number;
  /** How often the figures are sampled (default 1000 ms). */
  sampleIntervalMs?: number;
  retryAfterSeconds?: number;
}

export const underPressurePlugin = fp(async (app: FastifyInstance, opts: UnderPressureOptions = {}) => {
  const retryAfter = opts.retryAfterSeconds ?? 10;
  await app.register(underPressure, {
    maxEventLoopDelay: opts.maxEventLoopDelayMs ?? 1000,
    maxHeapUsedBytes: opts.maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * 0.9),
    sampleInterval: opts.sampleIntervalMs ?? 1000,
    retryAfter,
    pressureHandler: (req, reply, type) => {
      if (req.routeOptions.url === '/healthz') return;
      req.log.warn({ pressure: type }, 'overloaded: request refused');
      // Sent here (as under-pressure documents), not thrown: whichever error handler the route has
      // (bull-board's turns thrown errors into 500s), the answer is this problem.
      sendProblem(req, reply, new HttpProblem(503, 'overloaded', 'the server is overloaded; retry later', { headers: { 'retry-after': String(retryAfter) } }));
    },
  });
}, { name: 'under-pressure' });
