// The error every layer throws for a client mistake or an unavailable dependency: an HTTP status,
// a stable code from PROBLEM_CODES and field errors. Protocol adapters render it in their own
// shape (RFC 9457 problem+json on /v1, OpenAI's error object, A1111's detail).
import type { FieldError, ProblemCode } from './problem.ts';

export class HttpProblem extends Error {
  override name = 'HttpProblem';
  readonly status: number;
  /** One of PROBLEM_CODES: tsc refuses any other. */
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
