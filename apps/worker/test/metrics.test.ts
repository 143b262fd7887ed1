// The worker's metrics hooks on real parts: a JobStore on a private Redis, a real EngineHost with
// the bundled tiny model.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { EngineHost } from '@sdsvc/engine';
import { JobStore } from '@sdsvc/jobs';
import { newRegistry, workerMetrics } from '@sdsvc/metrics';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { instrumentEngine } from '../src/metrics/engine-telemetry.ts';
import { instrumentJobStore } from '../src/metrics/job-telemetry.ts';
import { countWebhookAttempt } from '../src/metrics/webhook-telemetry.ts';

const MODELS_DIR = fileURLToPath(new URL('../../../models', import.meta.url));
const params = { prompt: 'a fox', steps: 3, width: 64, height: 64 } as never; // the store does not read params

/** The value of one sample line, e.g. value(text, 'sdsvc_jobs_failed_total{code="model_error"}'). */
function value(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe('job metrics from the store transitions', () => {
  let redisServer: TestRedis;
  let redis: Redis;
  before(async () => {
    redisServer = await startTestRedis();
    redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  });
  after(async () => { redis.disconnect(); await redisServer.stop(); });

  test('wait and run times by type and model, images generated, failures by error code', async () => {
    const registry = newRegistry();
    const store = new JobStore(redis, { prefix: 'm' });
    instrumentJobStore(store, workerMetrics(registry));
    await store.create({ id: 'j1', type: 'txt2img', model: 'tiny-sd15', params });
    await store.create({ id: 'j2', type: 'inpaint', model: 'tiny-sd15-inpaint', params });
    assert.equal(await store.markRunning('j1', { total: 3, attempt: 1 }), true);
    assert.equal(await store.markSucceeded('j1', { images: [
      { key: 'a', width: 64, height: 64, seed: 1, content_type: 'image/png', bytes: 10 },
      { key: 'b', width: 64, height: 64, seed: 2, content_type: 'image/png', bytes: 10 },
    ] } as never), true);
    assert.equal(await store.markRunning('j2', { total: 3, attempt: 1 }), true);
    assert.equal(await store.markFailed('j2', { code: 'model_error', message: 'boom' }), true);

    const text = await waitFor(async () => {
      const t = await registry.metrics();
      return value(t, 'sdsvc_jobs_failed_total{code="model_error"}') === 1 && value(t, 'sdsvc_images_generated_total{type="txt2img",model="tiny-sd15"}') ? t : undefined;
    }, { timeoutMs: 5000, what: 'job metrics' });
    assert.equal(value(text, 'sdsvc_images_generated_total{type="txt2img",model="tiny-sd15"}'), 2);
    assert.equal(value(text, 'sdsvc_job_wait_seconds_count{type="txt2img",model="tiny-sd15"}'), 1);
    assert.equal(value(text, 'sdsvc_job_wait_seconds_count{type="inpaint",model="tiny-sd15-inpaint"}'), 1);
    assert.equal(value(text, 'sdsvc_job_run_seconds_count{type="txt2img",model="tiny-sd15",outcome="succeeded"}'), 1);
    assert.equal(value(text, 'sdsvc_job_run_seconds_count{type="inpaint",model="tiny-sd15-inpaint",outcome="failed"}'), 1);
    assert.equal(value(text, 'sdsvc_images_generated_total{type="inpaint",model="tiny-sd15-inpaint"}'), undefined);
  });
});

describe('engine metrics at the EngineHost surface', () => {
  let engine: EngineHost;
  before(async () => { engine = await EngineHost.start({ modelsDir: MODELS_DIR, intraOpNumThreads: 1, warmup: false, log: () => {} }); });
  after(() => engine.close());

  test('model load on preload, resident models, provider, one step time per step after the first', async () => {
    const registry = newRegistry();
    instrumentEngine(engine, workerMetrics(registry));
    instrumentEngine(engine, workerMetrics(newRegistry())); // a second attach is a no-op
    await engine.preload('tiny-sd15');
    let steps = 0;
    await engine.generate('tiny-sd15', {
      mode: 'txt2img', prompt: 'a red apple', width: 64, height: 64, steps: 5, guidanceScale: 7.5, scheduler: 'euler', seed: 1, numImages: 1,
    }, { onStep: () => { steps++; } });
    assert.equal(steps, 5, 'the caller still gets every step');
    const text = await registry.metrics();
    assert.equal(value(text, 'sdsvc_model_load_seconds_count{model="tiny-sd15"}'), 1);
    assert.equal(value(text, 'sdsvc_resident_models{model="tiny-sd15"}'), 1);
    assert.equal(value(text, 'sdsvc_execution_provider{provider="cpu"}'), 1, 'the provider the graphs were opened with');
    assert.deepEqual(engine.providersOf('tiny-sd15'), { text_encoder: 'cpu', unet: 'cpu', vae_decoder: 'cpu', vae_encoder: 'cpu' });
    assert.equal(value(text, 'sdsvc_denoise_step_seconds_count{model="tiny-sd15"}'), 4);
  });
});

test('webhook attempts by event and outcome', async () => {
  const registry = newRegistry();
  countWebhookAttempt('job.succeeded', 204, registry);
  countWebhookAttempt('job.succeeded', 503, registry);
  countWebhookAttempt('job.failed', null, registry);
  const text = await registry.metrics();
  assert.equal(value(text, 'sdsvc_webhook_attempts_total{event="job.succeeded",outcome="success"}'), 1);
  assert.equal(value(text, 'sdsvc_webhook_attempts_total{event="job.succeeded",outcome="http_error"}'), 1);
  assert.equal(value(text, 'sdsvc_webhook_attempts_total{event="job.failed",outcome="network_error"}'), 1);
});

test('the worker\'s /metrics route: Prometheus text behind METRICS_TOKEN', async (t) => {
  const { default: Fastify } = await import('fastify');
  const { workerMetricsRoutes } = await import('../src/metrics/metrics-route.ts');
  const registry = newRegistry();
  workerMetrics(registry).jobsFailed.inc({ code: 'storage_unavailable' });
  const app = Fastify();
  t.after(() => app.close());
  workerMetricsRoutes({ token: 'w-token', registry })(app);
  const denied = await app.inject({ url: '/metrics' });
  assert.equal(denied.statusCode, 401);
  assert.equal(denied.json().code, 'unauthorized');
  const ok = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer w-token' } });
  assert.equal(ok.statusCode, 200);
  assert.match(ok.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  assert.equal(value(ok.body, 'sdsvc_jobs_failed_total{code="storage_unavailable"}'), 1);
});
