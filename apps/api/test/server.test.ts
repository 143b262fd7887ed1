import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@sdsvc/config';
import { startTestRedis } from '../../../test/support/redis.ts';
import { startApi } from '../src/server.ts';
import { MODELS_DIR } from './harness.ts';

test('startApi wires the production parts, listens, answers and closes', async () => {
  const redis = await startTestRedis();
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-server-test-'));
  try {
    const config = loadConfig({ REDIS_URL: redis.url, STORAGE_URL: `file://${dir}`, MODELS_DIR, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', QUEUE_WITHOUT_WORKERS: 'true' });
    const api = await startApi(config);
    try {
      const ready = await fetch(`${api.address}/readyz`);
      assert.equal(ready.status, 200);
      const res = await fetch(`${api.address}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'abc' }, body: JSON.stringify({ prompt: 'a cat' }) });
      assert.equal(res.status, 202);
      assert.equal(res.headers.get('x-request-id'), 'abc');
      assert.match(res.headers.get('location') ?? '', /^\/v1\/jobs\/[0-9a-f-]{36}$/);
    } finally {
      await api.close();
    }
  } finally {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
