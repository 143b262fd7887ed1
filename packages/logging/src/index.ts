// pino JSON logger factory, with child loggers that carry request_id / job_id on every line, and
// redaction so credentials never reach the logs.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
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
  return opts.destination ? pino(options, opts.destination) : pino(options);
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
