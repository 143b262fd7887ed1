// /metrics, /openapi.*, /docs, /admin/queues and the playground, on a real app (private Redis).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { startHarness, type Harness } from './harness.ts';

const OPENAPI = new URL('../../../openapi.yaml', import.meta.url);
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('open operations (no tokens configured)', () => {
  let h: Harness;
  before(async () => { h = await startHarness(); });
  after(async () => { await h.close(); });

  test('/metrics: request durations by matched route pattern, never the raw URL; queue depth by state', async () => {
    const id = '0b7c5f8e-58a8-4c53-a8d6-1e1a3cfb2a11';
    assert.equal((await h.app.inject({ url: `/v1/jobs/${id}` })).statusCode, 404);
    assert.equal((await h.app.inject({ url: '/no/such/thing' })).statusCode, 404);
    const job = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a fox' } });
    assert.equal(job.statusCode, 202, job.body);

    const res = await h.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    const body = res.body;
    assert.match(body, /^sdsvc_http_request_duration_seconds_count\{method="GET",route="\/v1\/jobs\/:id",status_code="404"\} 1$/m);
    assert.match(body, /^sdsvc_http_request_duration_seconds_count\{method="POST",route="\/v1\/jobs",status_code="202"\} 1$/m);
    assert.match(body, /^sdsvc_http_request_duration_seconds_count\{method="GET",route="\(unmatched\)",status_code="404"\} 1$/m);
    assert.ok(!body.includes(id), 'no raw URL in labels');
    assert.ok(!body.includes('/no/such/thing'));
    assert.match(body, /^sdsvc_queue_jobs\{queue="generate.tiny-sd15",state="waiting"\} 1$/m);
    assert.match(body, /^sdsvc_queue_jobs\{queue="webhooks",state="waiting"\} 0$/m);
    assert.match(body, /^sdsvc_queue_up\{queue="generate.tiny-sd15"\} 1$/m);
  });

  test('/openapi.yaml is the repository file, /openapi.json the same document', async () => {
    const file = await readFile(OPENAPI, 'utf8');
    const yaml = await h.app.inject({ url: '/openapi.yaml' });
    assert.equal(yaml.statusCode, 200);
    assert.match(yaml.headers['content-type'] as string, /^application\/yaml/);
    assert.equal(yaml.body, file);
    const json = await h.app.inject({ url: '/openapi.json' });
    assert.equal(json.statusCode, 200);
    assert.deepEqual(json.json(), parse(file));
  });

  test('/docs: Swagger UI whose scripts and styles are all served locally', async () => {
    const page = await h.app.inject({ url: '/docs/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    const refs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(refs.length > 0);
    for (const ref of refs) {
      assert.doesNotMatch(ref, /^(https?:)?\/\//, `external asset ${ref}`);
      const asset = await h.app.inject({ url: new URL(ref, 'http://x/docs/').pathname });
      assert.equal(asset.statusCode, 200, `GET ${ref}`);
    }
    const init = await h.app.inject({ url: '/docs/static/swagger-initializer.js' });
    assert.equal(init.statusCode, 200);
  });

  test('/admin/queues is off without ADMIN_TOKEN or admin keys', async () => {
    assert.equal((await h.app.inject({ url: '/admin/queues', headers: { authorization: 'Bearer x' } })).statusCode, 404);
  });

  test('the playground is served at /', async () => {
    const res = await h.app.inject({ url: '/' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.match(res.body, /<title>[^<]*sdsvc/i);
  });

  test('a Redis outage does not hang /metrics: the queues are reported down', async () => {
    await h.redisServer.stop();
    const res = await h.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /^sdsvc_queue_up\{queue="generate.tiny-sd15"\} 0$/m);
    assert.doesNotMatch(res.body, /^sdsvc_queue_jobs\{/m);
  });
});

describe('METRICS_TOKEN and ADMIN_TOKEN', () => {
  let h: Harness;
  before(async () => { h = await startHarness({ METRICS_TOKEN: 'metrics-token-1', ADMIN_TOKEN: 'admin-token-1' }); });
  after(async () => { await h.close(); });

  test('/metrics needs the Bearer token', async () => {
    const denied = await h.app.inject({ url: '/metrics' });
    assert.equal(denied.statusCode, 401);
    assert.equal(denied.json().code, 'unauthorized');
    assert.equal((await h.app.inject({ url: '/metrics', headers: { authorization: 'Bearer admin-token-1' } })).statusCode, 401);
    const ok = await h.app.inject({ url: '/metrics', headers: { authorization: 'Bearer metrics-token-1' } });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /sdsvc_http_request_duration_seconds/);
  });

  test('/admin/queues: 401 asking for Basic without the admin token; the dashboard and its API with it', async () => {
    const denied = await h.app.inject({ url: '/admin/queues' });
    assert.equal(denied.statusCode, 401);
    assert.match(denied.headers['www-authenticate'] as string, /^Basic /);
    assert.equal((await h.app.inject({ url: '/admin/queues', headers: { authorization: 'Bearer metrics-token-1' } })).statusCode, 401);
    assert.equal((await h.app.inject({ url: '/admin/queues/api/queues', headers: { authorization: basic('x', 'wrong') } })).statusCode, 401);

    const page = await h.app.inject({ url: '/admin/queues', headers: { authorization: basic('admin', 'admin-token-1') } });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    const api = await h.app.inject({ url: '/admin/queues/api/queues', headers: { authorization: 'Bearer admin-token-1' } });
    assert.equal(api.statusCode, 200, api.body);
    const names = (api.json() as { queues: Array<{ name: string }> }).queues.map((q) => q.name).sort();
    // One generate queue per model (those in MODELS_DIR here), and the webhook queue.
    assert.deepEqual(names, ['generate.tiny-sd15', 'generate.tiny-sd15-inpaint', 'generate.tiny-sd2-v', 'generate.tiny-sdxl', 'webhooks']);
  });
});

describe('with API keys: operations routes are public, the dashboard needs an admin key', () => {
  let h: Harness;
  before(async () => { h = await startHarness({ API_KEYS: 'user-key-1', ADMIN_API_KEYS: 'admin-key-1', ADMIN_TOKEN: 'admin-token-1' }); });
  after(async () => { await h.close(); });

  test('/metrics, /openapi.json, /docs/ and the playground answer without a key; /v1 still needs one', async () => {
    for (const url of ['/metrics', '/openapi.json', '/openapi.yaml', '/docs/', '/']) {
      assert.equal((await h.app.inject({ url })).statusCode, 200, url);
    }
    assert.equal((await h.app.inject({ url: '/v1/models' })).statusCode, 401);
  });

  test('/admin/queues: 401 without a key, 403 with a user key, 200 with the admin key (Bearer or Basic); ADMIN_TOKEN does not apply', async () => {
    assert.equal((await h.app.inject({ url: '/admin/queues' })).statusCode, 401);
    assert.equal((await h.app.inject({ url: '/admin/queues', headers: { authorization: 'Bearer user-key-1' } })).statusCode, 403);
    assert.equal((await h.app.inject({ url: '/admin/queues', headers: { authorization: 'Bearer admin-token-1' } })).statusCode, 401);
    assert.equal((await h.app.inject({ url: '/admin/queues', headers: { authorization: 'Bearer admin-key-1' } })).statusCode, 200);
    const api = await h.app.inject({ url: '/admin/queues/api/queues', headers: { authorization: basic('me', 'admin-key-1') } });
    assert.equal(api.statusCode, 200, api.body);
  });
});
