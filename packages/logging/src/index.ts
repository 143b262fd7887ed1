// pino JSON logger factory, with child loggers that carry request_id / job_id on every line, and
// redaction so credentials never reach the logs.
import { pino, type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { redactUrlQuery, redactUrlsInText } from './redact-url.ts';

export { redactUrlQuery, redactUrlsInText, scrubInternals } from './redact-url.ts';

export type { Logger } from 'pino';

/** Paths pino blanks out: Authorization headers (incoming and outgoing) and anything named like a secret. */
export const REDACT_PATHS: readonly string[] = [
  'authorization', '*.authorization', '*.headers.authorization', 'req.headers.authorization',
  'headers["x-api-key"]', '*.headers["x-api-key"]', 'req.headers.cookie', '*.headers.cookie',
  'secret', '*.secret', 'password', '*.password', 'apiKeys', '*.apiKeys', 'api_keys',
  'webhookSecret', '*.webhookSecret', 'fileUrlSecret', '*.fileUrlSecret',
  'WEBHOOK_SECRET', 'FILE_URL_SECRET', 'API_KEYS', 'AWS_SECRET_ACCESS_KEY', '*.AWS_SECRET_ACCESS_KEY',
  'secretAccessKey', '*.secretAccessKey', 'credentials', '*.credentials',
];

export const REDACTED = '[redacted]';

/**
 * Fields holding URLs: kept, but their query strings are redacted (signed URL credentials,
 * webhook tokens). `req.url` is the incoming request line (signed /v1/files/… URLs).
 */
export const URL_PATHS: readonly string[] = [
  'url', '*.url', 'req.url', 'href', '*.href', 'location', '*.location', 'webhook.url', '*.webhook.url',
  'webhook_url', '*.webhook_url', 'images[*].url', 'result.images[*].url', '*.result.images[*].url', 'job.result.images[*].url',
];
const URL_FIELDS = new Set(URL_PATHS.map((p) => p.split('.').pop()!.replace('[*]', '')));

/** pino's censor: URL fields keep everything but their query values; every other path is blanked. */
function censor(value: unknown, path: string[]): unknown {
  const field = path[path.length - 1];
  if (URL_FIELDS.has(field)) return typeof value === 'string' ? redactUrlQuery(value) : value;
  return REDACTED;
}

export interface CreateLoggerOptions {
  level?: string;
  name?: string;
  /** Where lines go (tests); stdout when absent. */
  destination?: DestinationStream;
  /** Extra pino options (serializers…), merged last. */
  pino?: LoggerOptions;
}

export function loggerOptions(opts: Omit<CreateLoggerOptions, 'destination'> = {}): LoggerOptions {
  return {
    level: opts.level ?? 'info',
    name: opts.name,
    // ISO time and a textual level read better in aggregators than epoch ms and numbers.
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS, ...URL_PATHS], censor },
    // Error messages can quote a URL (a refused webhook, a failed fetch): same treatment.
    serializers: { err: errSerializer },
    ...opts.pino,
  };
}

function errSerializer(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  if (out && typeof out === 'object') {
    for (const k of ['message', 'stack', 'url']) if (typeof out[k] === 'string') out[k] = redactUrlsInText(out[k] as string);
  }
  return out;
}

export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const options = loggerOptions(opts);
  const logger = opts.destination ? pino(options, opts.destination) : pino(options);
  // Only with our own redaction: a caller's pino.redact (merged last) keeps pino's child() as is.
  if (opts.pino?.redact === undefined) logger.child = fastChild;
  return logger;
}

/**
 * Top-level keys some redact path starts with ('authorization', 'url', 'req', 'headers', …): a child
 * binding under one of these keys goes through pino's redaction as usual.
 */
const REDACTED_FIRST_KEYS = new Set([...REDACT_PATHS, ...URL_PATHS].map((p) => /^[^.[]+|^\[([^\]]*)\]/.exec(p)!).map((m) => (m[1] ?? m[0]).replace(/^["'`](.*)["'`]$/, '$1')));
/** Keys pino's child() never binds. */
const RESERVED_BINDING_KEYS = new Set(['level', 'serializers', 'formatters', 'customLevels']);
const { chindingsSym, serializersSym } = pino.symbols;
const originalChild = Object.getPrototypeOf(pino({ enabled: false })).child as Logger['child'];
const NO_BINDINGS = Object.freeze({});

/**
 * pino's child() with a shortcut for the bindings of every request and job (request_id, job_id,
 * key_name, attempt: strings and numbers under keys no redact path names). pino passes each binding
 * through the redactor of the wildcard paths ('*.authorization', '*.url', …), which costs more than
 * the rest of a request's logging; every one of those paths needs an object below the key, so for a
 * string, number or boolean under a key that is not the first segment of any redact path (nor has a
 * serializer) the redactor returns JSON.stringify(value): written here directly, the same bytes.
 * Anything else (objects, arrays, a redacted or URL key, child options other than `level`) takes
 * pino's own path, redaction included. Tests compare both paths on the same bindings.
 */
function fastChild<Child extends string = never>(this: Logger, bindings: Bindings, options?: ChildLoggerOptions<Child>): Logger<Child> {
  const slow = () => originalChild.call(this, bindings, options) as Logger<Child>;
  if (options != null) {
    for (const k in options) if (k !== 'level') return slow();
  }
  const serializers = (this as unknown as Record<symbol, Record<string, unknown>>)[serializersSym]!;
  let extra = '';
  for (const key in bindings) {
    if (!Object.hasOwn(bindings, key)) return slow();
    const value: unknown = bindings[key];
    if (value === undefined) continue; // pino leaves it out too
    if ((typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      || REDACTED_FIRST_KEYS.has(key) || RESERVED_BINDING_KEYS.has(key) || serializers[key] !== undefined) return slow();
    extra += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  }
  const child = originalChild.call(this, NO_BINDINGS, options) as Logger<Child>;
  (child as unknown as Record<symbol, string>)[chindingsSym] += extra;
  return child;
}

/** A child logger whose every line carries `request_id`. */
export function withRequestId(logger: Logger, requestId: string): Logger {
  return logger.child({ request_id: requestId });
}

/** A child logger whose every line carries `job_id` (and optional extra bindings such as attempt). */
export function withJobId(logger: Logger, jobId: string, extra: Record<string, unknown> = {}): Logger {
  return logger.child({ job_id: jobId, ...extra });
}

/** A logger that drops everything (tests, libraries called without one). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
