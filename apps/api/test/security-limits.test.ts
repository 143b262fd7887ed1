// Cost limits (400 limit_exceeded), the active-job quota (429 quota_exceeded), the per-key rate
// limit (429 rate_limited, then recovery), overload (503 overloaded) and the server timeouts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from './harness.ts';

const KEY = 'limits-key-0001';
const OTHER = 'limits-key-0002';
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

describe('cost limits: global defaults, per-model overrides, shown on /v1/models', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      API_KEYS: KEY, MAX_STEPS: '10', MAX_NUM_IMAGES: '2', MAX_ACTIVE_JOBS_PER_KEY: '0', RATE_LIMIT_PER_MINUTE: '0', JOB_TIMEOUT_MS: '300000',
      MODEL_LIMITS: JSON.stringify({ 'tiny-sd2-v': { max_steps: 3, max_output_pixels: 64 * 64 } }),
    });
  });
  after(async () => { await h.close(); });

  const post = (payload: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer(KEY), payload });

  for (const [name, body, limit, path] of [
    ['steps over MAX_STEPS', { steps: 11 }, 'max_steps', 'steps'],
    ['num_images over MAX_NUM_IMAGES', { num_images: 3, steps: 10 }, 'max_num_images', 'num_images'],
    // tiny-sd15's native size is 64: the default is 4 × 64 × 64 = 16384 pixels
    ['size over 4 × the native pixel count', { width: 192, height: 128, steps: 10 }, 'max_output_pixels', 'width'],
    ['a model\'s own max_steps (MODEL_LIMITS)', { model: 'tiny-sd2-v', steps: 4 }, 'max_steps', 'steps'],
    ['a model\'s own max_output_pixels (MODEL_LIMITS)', { model: 'tiny-sd2-v', width: 128, height: 64 }, 'max_output_pixels', 'width'],
  ] as const) {
    test(`${name} → 400 limit_exceeded naming ${limit}`, async () => {
      const res = await post({ prompt: 'a', ...body });
      assert.equal(res.statusCode, 400, res.body);
      const p = res.json();
      assert.equal(p.code, 'limit_exceeded');
      assert.match(p.detail, new RegExp(limit));
      assert.equal(p.errors[0].path, path);
      assert.equal(p.errors[0].code, 'limit_exceeded');
    });
  }

  test('at the limits the job is accepted', async () => {
    assert.equal((await post({ prompt: 'a', steps: 10, num_images: 2, width: 128, height: 128 })).statusCode, 202);
    assert.equal((await post({ prompt: 'a', model: 'tiny-sd2-v', steps: 3, width: 64, height: 64 })).statusCode, 202);
  });

  test('GET /v1/models lists each model\'s effective limits', async () => {
    const res = await h.app.inject({ url: '/v1/models', headers: bearer(KEY) });
    const byId = Object.fromEntries(res.json().data.map((m: { id: string; limits: unknown }) => [m.id, m.limits]));
    assert.deepEqual(byId['tiny-sd15'], { max_output_pixels: 16384, max_steps: 10, max_num_images: 2, job_timeout_ms: 300000 });
    assert.equal(byId['tiny-sd2-v'].max_steps, 3);
    assert.equal(byId['tiny-sd2-v'].max_output_pixels, 4096);
    assert.equal(byId['tiny-sd2-v'].max_num_images, 2);
  });
});

describe('MAX_ACTIVE_JOBS_PER_KEY: queued + running jobs per key', () => {
  let h: Harness;
  before(async () => { h = await startHarness({ API_KEYS: `${KEY},${OTHER}`, MAX_ACTIVE_JOBS_PER_KEY: '2', RATE_LIMIT_PER_MINUTE: '0' }); });
  after(async () => { await h.close(); });

  const post = (key: string) => h.app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer(key), payload: { prompt: 'q' } });

  test('over the quota → 429 quota_exceeded with Retry-After; other keys unaffected; a finished job frees its slot', async () => {
    const a = await post(KEY);
    const b = await post(KEY);
    assert.equal(a.statusCode, 202);
    assert.equal(b.statusCode, 202);
    const c = await post(KEY);
    assert.equal(c.statusCode, 429);
    assert.equal(c.json().code, 'quota_exceeded');
    assert.match(String(c.headers['content-type']), /^application\/problem\+json/);
    assert.ok(Number(c.headers['retry-after']) > 0);
    assert.equal(c.headers['ratelimit-limit'], '2');
    assert.equal((await post(OTHER)).statusCode, 202);

    // A terminal transition needs no hook: the next count drops the finished job.
    await h.store.markRunning(a.json().id, { total: 1, attempt: 1 });
    assert.equal((await post(KEY)).statusCode, 429, 'running still counts');
    await h.store.markFailed(a.json().id, { code: 'internal_error', message: 'x' });
    assert.equal((await post(KEY)).statusCode, 202);
    const cancel = await h.app.inject({ method: 'POST', url: `/v1/jobs/${b.json().id}/cancel`, headers: bearer(KEY) });
    assert.equal(cancel.statusCode, 200);
    assert.equal((await post(KEY)).statusCode, 202);
    assert.equal((await post(KEY)).statusCode, 429);
  });

  test('concurrent submissions never exceed the quota', async () => {
    const key = 'limits-key-0002';
    const results = await Promise.all(Array.from({ length: 12 }, () => post(key)));
    const accepted = results.filter((r) => r.statusCode === 202).length;
    // OTHER already holds one job from the test above: one slot left.
    assert.equal(accepted, 1, results.map((r) => r.statusCode).join(','));
    assert.ok(results.every((r) => r.statusCode === 202 || r.json().code === 'quota_exceeded'));
  });
});

describe('RATE_LIMIT_PER_MINUTE: submissions per key, counted in Redis', () => {
  let h: Harness;
  const WINDOW_MS = 600;
  before(async () => {
    h = await startHarness({ API_KEYS: `${KEY},${OTHER}`, RATE_LIMIT_PER_MINUTE: '3', MAX_ACTIVE_JOBS_PER_KEY: '0' }, { appDeps: { rateLimitWindowMs: WINDOW_MS } });
  });
  after(async () => { await h.close(); });

  const post = (key: string) => h.app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer(key), payload: { prompt: 'r' } });

  test('past the limit → 429 rate_limited with Retry-After and RateLimit-* headers; then it recovers', async () => {
    for (let i = 0; i < 3; i++) {
      const ok = await post(KEY);
      assert.equal(ok.statusCode, 202);
      assert.equal(ok.headers['ratelimit-limit'], '3');
      assert.equal(ok.headers['ratelimit-remaining'], String(2 - i));
    }
    const over = await post(KEY);
    assert.equal(over.statusCode, 429);
    assert.equal(over.json().code, 'rate_limited');
    assert.match(String(over.headers['content-type']), /^application\/problem\+json/);
    assert.ok(Number(over.headers['retry-after']) >= 1);
    assert.equal(over.headers['ratelimit-remaining'], '0');
    assert.ok('ratelimit-reset' in over.headers);
    // Other keys and other routes are not counted against this key.
    assert.equal((await post(OTHER)).statusCode, 202);
    assert.equal((await h.app.inject({ url: '/v1/models', headers: bearer(KEY) })).statusCode, 200);
    assert.ok(await h.redis.keys('t:rate-limit:*').then((k) => k.length > 0), 'the counter lives in Redis');

    await sleep(WINDOW_MS + 50); // the test's window (RATE_LIMIT_PER_MINUTE's is 60 s)
    assert.equal((await post(KEY)).statusCode, 202);
  });

  test('Redis down: the limiter fails open at once (the request is not held); the submission itself answers 503', async () => {
    await h.redisServer.stop();
    const started = Date.now();
    const res = await post(KEY);
    assert.equal(res.statusCode, 503, res.body);
    assert.notEqual(res.json().code, 'rate_limited');
    assert.ok(Date.now() - started < 10_000);
  });
});

describe('RATE_LIMIT_PER_MINUTE covers every adapter\'s submit route (config.submission), one counter per key', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ API_KEYS: KEY, RATE_LIMIT_PER_MINUTE: '2', MAX_ACTIVE_JOBS_PER_KEY: '0' }, { appDeps: { rateLimitWindowMs: 60_000 } });
  });
  after(async () => { await h.close(); });

  test('submit routes are the ones marked; they share the key\'s budget', async () => {
    const submitRoutes = h.app.authRoutes().filter((r) => r.method === 'POST' && /^\/(v1\/jobs|v1\/images\/|sdapi\/v1\/(txt|img)2img)/.test(r.url) && !r.url.includes(':'));
    assert.ok(submitRoutes.some((r) => r.url === '/v1/jobs') && submitRoutes.length >= 3, submitRoutes.map((r) => r.url).join(' '));
    const statuses: number[] = [];
    for (const r of submitRoutes) {
      const res = await h.app.inject({ method: 'POST', url: r.url, headers: { ...bearer(KEY), 'content-type': 'application/json' }, payload: '{}' });
      statuses.push(res.statusCode);
      if (statuses.length > 2) {
        assert.equal(res.statusCode, 429, `${r.url} is counted (${statuses.join(',')})`);
        assert.ok(Number(res.headers['retry-after']) >= 1, r.url);
      }
    }
    assert.ok(statuses.slice(0, 2).every((s) => s !== 429));
  });
});

describe('overload and timeouts', () => {
  test('under pressure → 503 overloaded with Retry-After; /healthz still answers', async () => {
    const h = await startHarness({ API_KEYS: KEY }, { appDeps: { underPressure: { maxHeapUsedBytes: 1, sampleIntervalMs: 5 } } });
    try {
      let res = await h.app.inject({ url: '/v1/models', headers: bearer(KEY) });
      for (let i = 0; i < 200 && res.statusCode !== 503; i++) {
        await sleep(10); // the first heap sample is taken after sampleIntervalMs
        res = await h.app.inject({ url: '/v1/models', headers: bearer(KEY) });
      }
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().code, 'overloaded');
      assert.equal(res.headers['retry-after'], '10');
      assert.equal((await h.app.inject({ url: '/healthz' })).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('requestTimeout and connectionTimeout are set, above Prefer: wait\'s 60 s', async () => {
    const h = await startHarness();
    try {
      const cfg = h.app.initialConfig as { requestTimeout?: number; connectionTimeout?: number };
      assert.ok((cfg.requestTimeout ?? 0) > 60_000);
      assert.ok((cfg.connectionTimeout ?? 0) > 60_000);
      assert.equal(h.app.server.requestTimeout, cfg.requestTimeout);
    } finally {
      await h.close();
    }
  });
});
