import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { S3ObjectStore } from '@sdsvc/storage';
import { startHarness } from './harness.ts';

test('API_KEYS set: missing or wrong bearer → 401 unauthorized; right key passes; probes stay open', async () => {
  const h = await startHarness({ API_KEYS: 'k-one,k-two' });
  try {
    const none = await h.app.inject({ url: '/v1/models' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().code, 'unauthorized');
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    const wrong = await h.app.inject({ url: '/v1/models', headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
    const post = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a' } });
    assert.equal(post.statusCode, 401);
    const ok = await h.app.inject({ url: '/v1/models', headers: { authorization: 'Bearer k-two' } });
    assert.equal(ok.statusCode, 200);
    assert.equal((await h.app.inject({ url: '/healthz' })).statusCode, 200);
  } finally {
    await h.close();
  }
});

test('/readyz → 503 not_ready when Redis is down', async () => {
  const h = await startHarness();
  try {
    assert.equal((await h.app.inject({ url: '/readyz' })).statusCode, 200);
    await h.redisServer.stop();
    const res = await h.app.inject({ url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().code, 'not_ready');
    assert.match(res.json().detail, /redis/);
  } finally {
    await h.close();
  }
});

test('API_KEYS set: /readyz stays open, and signed /v1/files/* URLs need no bearer', async () => {
  const h = await startHarness({ API_KEYS: 'k-one' });
  try {
    const ready = await h.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    await h.objects.put('job-x/0.png', Buffer.from('png bytes'), 'image/png');
    const url = new URL(await h.objects.url('job-x/0.png'));
    const file = await h.app.inject({ url: url.pathname + url.search });
    assert.equal(file.statusCode, 200, file.body);
    assert.equal(file.body, 'png bytes');
    // The signature, not a bearer, guards them: a bad one is still refused.
    const bad = await h.app.inject({ url: `${url.pathname}?expires=${url.searchParams.get('expires')}&sig=${'0'.repeat(64)}` });
    assert.equal(bad.statusCode, 403);
  } finally {
    await h.close();
  }
});

test('Idempotency-Key is scoped per API key: the same key from two callers makes two jobs', async () => {
  const h = await startHarness({ API_KEYS: 'k-one,k-two' });
  try {
    const post = (bearer: string) => h.app.inject({
      method: 'POST', url: '/v1/jobs', payload: { prompt: 'shared key', seed: 1 },
      headers: { authorization: `Bearer ${bearer}`, 'idempotency-key': 'same-key' },
    });
    const one = await post('k-one');
    const two = await post('k-two');
    assert.equal(one.statusCode, 202, one.body);
    assert.equal(two.statusCode, 202, two.body);
    assert.notEqual(two.json().id, one.json().id, 'another caller does not get the first caller\'s job');
    assert.equal(two.headers['idempotent-replayed'], undefined);
    const again = await post('k-one');
    assert.equal(again.json().id, one.json().id);
    assert.equal(again.headers['idempotent-replayed'], 'true');
  } finally {
    await h.close();
  }
});

test('/readyz → 503 not_ready when the object store does not answer, after the 2 s readiness timeout (not the client\'s)', async () => {
  // An "S3 endpoint" that accepts connections and never answers: only the readiness timeout ends the probe.
  const sockets = new Set<Socket>();
  const silent = createServer((s) => { sockets.add(s); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const store = new S3ObjectStore({ bucket: 'images', endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  const h = await startHarness({}, { objectStore: store, readyTimeoutMs: null });
  try {
    const started = Date.now();
    const res = await h.app.inject({ url: '/readyz' });
    const elapsed = Date.now() - started;
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().code, 'not_ready');
    assert.match(res.json().detail, /storage/);
    assert.doesNotMatch(res.json().detail, /redis/, 'Redis answered');
    // The default timeout decided it: not before 2 s (and not the SDK's own, much later, timeout).
    assert.ok(elapsed >= 1990, `answered after ${elapsed} ms`);
  } finally {
    await h.close();
    await store.close();
    for (const s of sockets) s.destroy();
    silent.close();
  }
});
