import { test } from 'node:test';
import assert from 'node:assert/strict';
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
