// Every error becomes a problem document: ours keep their code, framework errors get a stable one,
// Redis outages a 503 the client can retry, and anything unexpected is a 500 without internals
// (the stack goes to the log only).
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ProblemCode } from '@sdsvc/contracts';
import { asRedisUnavailable } from '@sdsvc/jobs';
import { HttpProblem, sendProblem } from '../problem.ts';

/** Seconds a client should wait before retrying while Redis is unreachable. */
export const REDIS_RETRY_AFTER_SECONDS = 5;

/** The 503 of a request that met a Redis outage: submitting a job needs the queue; every other
 *  route reads or changes job records. */
export function redisUnavailableProblem(req: FastifyRequest): HttpProblem {
  const headers = { 'retry-after': String(REDIS_RETRY_AFTER_SECONDS) };
  return req.method === 'POST' && req.routeOptions.url === '/v1/jobs'
    ? new HttpProblem(503, 'queue_unavailable', 'the job queue is unavailable (Redis cannot be reached); try again later', { headers })
    : new HttpProblem(503, 'store_unavailable', 'the job store is unavailable (Redis cannot be reached); try again later', { headers });
}

const FRAMEWORK_CODES: Record<string, [number, ProblemCode]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_EMPTY_TYPE: [415, 'unsupported_media_type'],
  FST_REQ_FILE_TOO_LARGE: [413, 'payload_too_large'],
  FST_PARTS_LIMIT: [413, 'payload_too_large'],
  FST_FILES_LIMIT: [413, 'payload_too_large'],
  FST_FIELDS_LIMIT: [413, 'payload_too_large'],
  FST_PROTO_VIOLATION: [400, 'invalid_body'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'unsupported_media_type'],
};

function toProblem(err: FastifyError, req: FastifyRequest): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (asRedisUnavailable(err)) return redisUnavailableProblem(req);
  const known = err.code ? FRAMEWORK_CODES[err.code] : undefined;
  if (known) return new HttpProblem(known[0], known[1], err.message);
  if (err instanceof SyntaxError) return new HttpProblem(400, 'invalid_json', 'the body is not valid JSON');
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new HttpProblem(err.statusCode, err.statusCode === 413 ? 'payload_too_large' : 'bad_request', err.message);
  }
  return new HttpProblem(500, 'internal_error', 'internal error');
}

export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const problem = toProblem(err, req);
    if (problem.code === 'queue_unavailable' || problem.code === 'store_unavailable') req.log.warn({ err: err.message, code: problem.code }, 'Redis unavailable');
    else if (problem.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: problem.code, status: problem.status }, problem.message);
    return sendProblem(req, reply, problem);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(req, reply, new HttpProblem(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`)));
}, { name: 'errors' });
