// Errors on /v1/images/*: OpenAI's shape {error: {message, type, param, code}} with our status.
import type { HttpProblem, OpenAIError } from '@sdsvc/contracts';
import { openaiParam } from './translate.ts';

function typeFor(status: number): string {
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function openaiError(p: HttpProblem): OpenAIError {
  const fields = p.errors ?? [];
  const detail = fields.length > 0 && p.code === 'validation_failed'
    ? `${p.message}: ${[...new Set(fields.map((e) => `${openaiParam(e.path) ?? e.path}: ${e.message}`))].join('; ')}`
    : p.message;
  return {
    error: {
      message: detail,
      type: typeFor(p.status),
      param: openaiParam(fields[0]?.path),
      code: p.status === 401 ? 'invalid_api_key' : p.code,
    },
  };
}
