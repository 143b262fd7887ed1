// RFC 9457 problem responses with a stable `code`. Code throws HttpProblem (@sdsvc/contracts); the
// error handler (plugins/errors.ts) turns it, and framework errors, into application/problem+json.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { HttpProblem, type FieldError, type Problem, type ProblemCode } from '@sdsvc/contracts';

export { fieldProblem, HttpProblem, validationProblem } from '@sdsvc/contracts';

export const PROBLEM_TYPE_BASE = 'https://sdsvc.dev/problems/';

export function problemBody(req: FastifyRequest, status: number, code: ProblemCode, detail: string, errors?: FieldError[]): Problem {
  return {
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    instance: req.url.split('?')[0],
    code,
    request_id: String(req.id),
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

export function sendProblem(req: FastifyRequest, reply: FastifyReply, p: HttpProblem): FastifyReply {
  for (const [k, v] of Object.entries(p.headers)) reply.header(k, v);
  return reply.code(p.status).type('application/problem+json').send(problemBody(req, p.status, p.code, p.message, p.errors));
}
