// Request ids: a sane incoming `x-request-id` is kept, else one is made; it is echoed back and
// bound to every log line of the request (as request_id).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import fp from 'fastify-plugin';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function genRequestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
}

export const requestIdPlugin = fp(async (app: FastifyInstance) => {
  // Callback style (no promise per request): every request runs it.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
}, { name: 'request-id' });
