// Any error a compatibility route meets → an HttpProblem (status + stable code), which each
// adapter then renders in its protocol's shape. Mirrors the /v1 error handler's mapping.
import type { FastifyError } from 'fastify';
import { HttpProblem } from '@sdsvc/contracts';
import { asRedisUnavailable } from '@sdsvc/jobs';

const FRAMEWORK: Record<string, () => HttpProblem> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new HttpProblem(413, 'payload_too_large', 'the request body is too large'),
  FST_REQ_FILE_TOO_LARGE: () => new HttpProblem(413, 'payload_too_large', 'a file part is too large'),
  FST_PARTS_LIMIT: () => new HttpProblem(413, 'payload_too_large', 'too many multipart parts'),
  FST_FILES_LIMIT: () => new HttpProblem(413, 'payload_too_large', 'too many file parts'),
  FST_FIELDS_LIMIT: () => new HttpProblem(413, 'payload_too_large', 'too many multipart fields'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new HttpProblem(415, 'unsupported_media_type', 'unsupported content type'),
  FST_INVALID_MULTIPART_CONTENT_TYPE: () => new HttpProblem(415, 'unsupported_media_type', 'send multipart/form-data'),
  FST_ERR_CTP_EMPTY_TYPE: () => new HttpProblem(415, 'unsupported_media_type', 'the request has no content type'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new HttpProblem(400, 'invalid_json', 'the body is empty'),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new HttpProblem(400, 'invalid_json', 'the body is not valid JSON'),
};

export function toHttpProblem(err: FastifyError | Error): HttpProblem {
  if (err instanceof HttpProblem) return err;
  if (asRedisUnavailable(err)) {
    return new HttpProblem(503, 'queue_unavailable', 'the job queue is unavailable (Redis cannot be reached); try again later', { headers: { 'retry-after': '5' } });
  }
  const code = (err as FastifyError).code;
  const known = code ? FRAMEWORK[code] : undefined;
  if (known) return known();
  if (err instanceof SyntaxError) return new HttpProblem(400, 'invalid_json', 'the body is not valid JSON');
  const status = (err as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) return new HttpProblem(status, 'bad_request', err.message);
  return new HttpProblem(500, 'internal_error', 'internal error');
}
