import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, MAX_RETRY_AFTER_MS, nextDelayMs, parseRetryAfter, signWebhook } from '../src/index.ts';

test('Retry-After as seconds or HTTP date, capped', () => {
  const now = Date.UTC(2030, 0, 1, 0, 0, 0);
  assert.equal(parseRetryAfter('120', now), 120_000);
  assert.equal(parseRetryAfter(new Date(now + 30_000).toUTCString(), now), 30_000);
  assert.equal(parseRetryAfter(new Date(now - 30_000).toUTCString(), now), 0);
  assert.equal(parseRetryAfter('999999999', now), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test('the schedule gives the delay before the next attempt', () => {
  const s = [0, 5000, 300000];
  assert.equal(nextDelayMs(s, 1), 5000);
  assert.equal(nextDelayMs(s, 2), 300000);
  assert.equal(nextDelayMs(s, 3), undefined);
  assert.equal(nextDelayMs(s, 1, 42), 42);
});

test('signatures verify with standardwebhooks', () => {
  const secret = generateWebhookSecret();
  const body = JSON.stringify({ type: 'job.succeeded', timestamp: new Date().toISOString(), data: { id: 'j' } });
  const headers = signWebhook(secret, 'msg_j_job.succeeded', new Date(), body);
  assert.match(headers['webhook-signature'], /^v1,/);
  assert.deepEqual(new Webhook(secret).verify(body, { ...headers }), JSON.parse(body));
  assert.throws(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers }));
});
