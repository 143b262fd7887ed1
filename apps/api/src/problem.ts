// RFC 9457 problem responses with a stable `code`. Route code throws HttpProblem; the error handler
// (plugins/errors.ts) turns it, and framework errors, into application/problem+json.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { FieldError, Problem, ProblemCode } from '@sdsvc/contracts';

export const PROBLEM_TYPE_BASE = 'https://sdsvc.dev/problems/';

export class HttpProblem extends Error {
  override name = 'HttpProblem';
  readonly status: number;
  /** One of PROBLEM_CODES (@sdsvc/contracts): tsc refuses any other. */
  readonly code: ProblemCode;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  constructor(status: number, code: ProblemCode, detail: string, opts: { errors?: FieldError[]; headers?: Record<string, string> } = {}) {
    super(detail);
    this.status = status;
    this.code = code;
    this.errors = opts.errors;
    this.headers = opts.headers ?? {};
  }
}

export const validationProblem = (errors: FieldError[], detail = 'the request is not valid'): HttpProblem =>
  new HttpProblem(400, 'validation_failed', detail, { errors });

/** One field problem with its own top-level code (e.g. unknown_model on `model`). */
export const fieldProblem = (status: number, code: ProblemCode, path: string, detail: string): HttpProblem =>
  new HttpProblem(status, code, detail, { errors: [{ path, code, message: detail }] });

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
