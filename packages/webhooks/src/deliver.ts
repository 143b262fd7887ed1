// One delivery attempt: sign, POST under the URL rule, classify the answer.
import { safeRequest, UrlNotAllowedError } from '@sdsvc/net';
import { parseRetryAfter } from './schedule.ts';
import { signWebhook } from './signing.ts';
import type { WebhookJobData } from './types.ts';

export type DeliveryOutcome =
  | { kind: 'delivered'; status: number }
  /** 410 Gone or a URL the rule refuses: no further attempts. */
  | { kind: 'stop'; status: number | null; error: string }
  | { kind: 'retry'; status: number | null; error: string; retryAfterMs?: number };

export interface DeliverOptions {
  secret: string;
  timeoutMs: number;
  allowPrivate: boolean;
  now?: () => Date;
}

/** The rule webhook URLs follow, at submission (API) and at delivery: https only, public addresses
 * only, unless private URLs are allowed. */
export function webhookUrlRule(allowPrivate: boolean) {
  return { allowPrivate, protocols: allowPrivate ? ['https:', 'http:'] : ['https:'] };
}

export async function deliverOnce(msg: WebhookJobData, opts: DeliverOptions): Promise<DeliveryOutcome> {
  const at = opts.now?.() ?? new Date();
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'sdsvc-webhooks',
    ...signWebhook(opts.secret, msg.messageId, at, msg.body),
  };
  let res;
  try {
    res = await safeRequest(msg.url, {
      ...webhookUrlRule(opts.allowPrivate),
      method: 'POST', headers, body: msg.body, timeoutMs: opts.timeoutMs, maxBodyBytes: 64 * 1024,
    });
  } catch (err) {
    if (err instanceof UrlNotAllowedError) return { kind: 'stop', status: null, error: err.message };
    const e = err as Error & { code?: string };
    return { kind: 'retry', status: null, error: e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message };
  }
  const status = res.status;
  if (status >= 200 && status <= 299) return { kind: 'delivered', status };
  if (status === 410) return { kind: 'stop', status, error: 'receiver answered 410 Gone: no more attempts' };
  if (status === 429 || status === 503) {
    return { kind: 'retry', status, error: `HTTP ${status}`, retryAfterMs: parseRetryAfter(res.headers['retry-after'], at.getTime()) };
  }
  return { kind: 'retry', status, error: `HTTP ${status}` };
}
