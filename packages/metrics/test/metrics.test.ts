import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import {
  httpRequestDuration, metricsAuthorized, metricsRoute, newRegistry, registerQueueDepth, webhookOutcome, workerMetrics,
} from '../src/index.ts';

test('definitions are idempotent per registry and separate between registries', async () => {
  const a = newRegistry();
  const b = newRegistry();
  assert.equal(workerMetrics(a).jobsFailed, workerMetrics(a).jobsFailed);
  assert.notEqual(workerMetrics(a).jobsFailed, workerMetrics(b).jobsFailed);
  workerMetrics(a).jobsFailed.inc({ code: 'model_error' });
  assert.match(await a.metrics(), /^sdsvc_jobs_failed_total\{code="model_error"\} 1$/m);
  assert.doesNotMatch(await b.metrics(), /model_error/);
  httpRequestDuration(a).observe({ method: 'GET', route: '/v1/jobs/:id', status_code: '200' }, 0.02);
  assert.match(await a.metrics(), /sdsvc_http_request_duration_seconds_count\{method="GET",route="\/v1\/jobs\/:id",status_code="200"\} 1/);
});

test('queue depth: counts by state at scrape time; a source that hangs is skipped within the deadline', async () => {
  const registry = newRegistry();
  let waiting = 3;
  registerQueueDepth(registry, [
    { name: 'generate', counts: async () => ({ waiting, active: 1 }) },
    { name: 'webhooks', counts: () => new Promise(() => {}) }, // Redis gone: never answers
  ], { timeoutMs: 50 });
  const first = await registry.metrics();
  assert.match(first, /^sdsvc_queue_jobs\{queue="generate",state="waiting"\} 3$/m);
  assert.match(first, /^sdsvc_queue_jobs\{queue="generate",state="active"\} 1$/m);
  assert.doesNotMatch(first, /queue_jobs\{queue="webhooks"/);
  assert.match(first, /^sdsvc_queue_up\{queue="webhooks"\} 0$/m);
  assert.match(first, /^sdsvc_queue_up\{queue="generate"\} 1$/m);
  waiting = 0;
  assert.match(await registry.metrics(), /^sdsvc_queue_jobs\{queue="generate",state="waiting"\} 0$/m);
});

test('metricsAuthorized: open without a token, exact Bearer token otherwise', () => {
  assert.equal(metricsAuthorized(undefined, undefined), true);
  assert.equal(metricsAuthorized(undefined, 's3cret'), false);
  assert.equal(metricsAuthorized('Bearer nope', 's3cret'), false);
  assert.equal(metricsAuthorized('Basic s3cret', 's3cret'), false);
  assert.equal(metricsAuthorized('Bearer s3cret', 's3cret'), true);
  assert.equal(metricsAuthorized('bearer s3cret ', 's3cret'), true);
});

test('webhookOutcome labels', () => {
  assert.equal(webhookOutcome(204), 'success');
  assert.equal(webhookOutcome(500), 'http_error');
  assert.equal(webhookOutcome(null), 'network_error');
});

test('metricsRoute serves the registry on node:http behind the token and ignores other paths', async (t) => {
  const registry = newRegistry({ processMetrics: true });
  workerMetrics(registry).imagesGenerated.inc({ type: 'txt2img', model: 'tiny-sd15' }, 2);
  const route = metricsRoute(registry, { token: 'tok' });
  const server = createServer((req, res) => {
    void route(req, res).then((handled) => { if (!handled) res.writeHead(404).end('other'); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const denied = await fetch(`${base}/metrics`);
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get('content-type'), 'application/problem+json');
  assert.equal(((await denied.json()) as { code: string }).code, 'unauthorized');

  const ok = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer tok' } });
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const body = await ok.text();
  assert.match(body, /^sdsvc_images_generated_total\{type="txt2img",model="tiny-sd15"\} 2$/m);
  assert.match(body, /^sdsvc_process_resident_memory_bytes \d+/m);

  const other = await fetch(`${base}/healthz`);
  assert.equal(await other.text(), 'other');
});
