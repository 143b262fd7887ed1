// The POST /v1/jobs body as plain fields + image files, from JSON or multipart/form-data.
// Multipart text parts are strings: they are coerced to the JSON types the schema expects.
// Multipart counts against MAX_BODY_BYTES (413); a broken multipart body is 400 invalid_body.
import type { FastifyRequest } from 'fastify';
import { IMAGE_FIELDS, type ImageField } from '@sdsvc/contracts';
import { assertJsonDepth, FILE_PART, fingerprint } from '@sdsvc/submission';
import { HttpProblem, validationProblem } from '../problem.ts';

export interface Submission {
  body: Record<string, unknown>;
  files: Map<ImageField, Buffer>;
  /** sha256 over the canonical body and the files: the idempotency fingerprint. Computed on
   *  demand: only a request with an Idempotency-Key needs it (it was ~4 % of a POST's CPU). */
  fingerprint(): string;
}

/** The body's depth limit is checked here, key or no key (deep nesting is 400 invalid_body). */
function submission(body: Record<string, unknown>, files: Map<ImageField, Buffer>): Submission {
  assertJsonDepth(body);
  return { body, files, fingerprint: () => fingerprint(body, files) };
}

const NUMBER_FIELDS = new Set(['width', 'height', 'steps', 'guidance_scale', 'seed', 'num_images', 'strength',
  'reference_strength', 'mask_blur', 'output_quality', 'inpaint_full_res_padding']);
const BOOLEAN_FIELDS = new Set(['mask_invert', 'overlay', 'inpaint_full_res', 'safety']);
const JSON_FIELDS = new Set(['webhook', 'metadata', 'loras', 'preview']);
function coerce(name: string, value: string): unknown {
  if (NUMBER_FIELDS.has(name) && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value.trim())) return Number(value);
  if (BOOLEAN_FIELDS.has(name)) {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
  }
  if (JSON_FIELDS.has(name)) {
    try { return JSON.parse(value); } catch { return value; } // the schema reports the type error
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Broken multipart (no boundary, cut short, bad part headers): busboy's errors are plain Errors. */
function isClientMultipartError(err: unknown): boolean {
  if (err instanceof HttpProblem) return false;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof e.code === 'string' && e.code.startsWith('FST_')) return false; // the error handler maps these
  return typeof e.message === 'string' && /multipart|boundary|unexpected end|malformed|part|header/i.test(e.message);
}

async function readMultipart(req: FastifyRequest, maxImageBytes: number, maxBodyBytes: number): Promise<{ body: Record<string, unknown>; files: Map<ImageField, Buffer> }> {
  // Multipart bypasses Fastify's bodyLimit: count the raw bytes ourselves (a declared length is
  // refused before reading; a chunked body is cut off as soon as it passes the limit).
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) throw tooLarge(maxBodyBytes);
  let received = 0;
  let over = false;
  const count = (chunk: Buffer) => {
    received += chunk.length;
    if (received > maxBodyBytes && !over) {
      over = true;
      // @fastify/multipart ends the parts iteration with a request 'error' (it unpipes busboy and
      // fails the part being read); the rest of the body is drained so the 413 can be answered.
      req.raw.emit('error', tooLarge(maxBodyBytes));
      req.raw.resume();
    }
  };
  req.raw.on('data', count);

  let base: Record<string, unknown> = {};
  const fields: Record<string, unknown> = {};
  const files = new Map<ImageField, Buffer>();
  const parts = req.parts({ limits: {
    fileSize: maxImageBytes, files: IMAGE_FIELDS.length, fields: 64, fieldSize: Math.min(1024 * 1024, maxBodyBytes), parts: 64 + IMAGE_FIELDS.length,
  } });
  try {
    for await (const part of parts) {
      if (over) throw tooLarge(maxBodyBytes);
      if (part.type === 'file') {
        if (!(IMAGE_FIELDS as readonly string[]).includes(part.fieldname)) {
          part.file.resume();
          throw validationProblem([{ path: part.fieldname, code: 'unknown_field', message: `unexpected file part "${part.fieldname}"` }]);
        }
        const buf = await part.toBuffer();
        if (part.file.truncated) throw new HttpProblem(413, 'image_too_large', `${part.fieldname} is larger than ${maxImageBytes} bytes`);
        files.set(part.fieldname as ImageField, buf);
      } else if (part.fieldname === 'json') {
        let parsed: unknown;
        try { parsed = JSON.parse(String(part.value)); } catch { throw new HttpProblem(400, 'invalid_json', 'the `json` part is not valid JSON'); }
        if (!isPlainObject(parsed)) throw validationProblem([{ path: '', code: 'invalid_type', message: 'the `json` part must be an object' }]);
        base = parsed;
      } else {
        if (part.valueTruncated) throw new HttpProblem(413, 'payload_too_large', `part "${part.fieldname}" is too large`);
        fields[part.fieldname] = coerce(part.fieldname, String(part.value));
      }
    }
    if (over) throw tooLarge(maxBodyBytes);
  } catch (err) {
    if (over) throw tooLarge(maxBodyBytes);
    if (isClientMultipartError(err)) throw new HttpProblem(400, 'invalid_body', 'the multipart body is malformed or incomplete');
    throw err;
  } finally {
    req.raw.off('data', count);
  }
  const body = { ...base, ...fields };
  for (const name of files.keys()) body[name] = FILE_PART;
  return { body, files };
}

const tooLarge = (max: number) => new HttpProblem(413, 'payload_too_large', `the request body is larger than ${max} bytes`);

/** `multipart`: the route is the multipart one (body-kind.ts), where @fastify/multipart reads the body. */
export async function readSubmission(req: FastifyRequest, maxImageBytes: number, multipart: boolean): Promise<Submission> {
  if (multipart) {
    // MAX_BODY_BYTES (the app's bodyLimit) covers multipart too: fields and files together.
    const { body, files } = await readMultipart(req, maxImageBytes, req.routeOptions.bodyLimit ?? Number.POSITIVE_INFINITY);
    return submission(body, files);
  }
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new HttpProblem(415, 'unsupported_media_type', 'send application/json or multipart/form-data');
  }
  if (!isPlainObject(req.body)) {
    throw validationProblem([{ path: '', code: 'invalid_type', message: 'the body must be a JSON object' }]);
  }
  return submission(req.body, new Map());
}
