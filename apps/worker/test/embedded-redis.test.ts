// REDIS_URL unset: the process starts its own redis-server and never writes into a Redis it did
// not start (such as one on 127.0.0.1:6379). REDIS_URL set: used as given, nothing started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisProcessId } from '@sdsvc/local-redis';
import { resolveRedis } from '../src/process/embedded-redis.ts';

test('REDIS_URL unset: a private redis-server of our own (not whatever listens on 6379), with its AOF in the data dir', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-embedded-redis-'));
  try {
    const redis = await resolveRedis(undefined, dir);
    try {
      assert.equal(redis.source, 'private redis-server');
      const port = Number(new URL(redis.url).port);
      assert.notEqual(port, 6379);
      assert.equal(new URL(redis.url).hostname, '127.0.0.1');
      // The server answering on that URL is the process we started.
      assert.ok(redis.pid);
      assert.equal(await redisProcessId('127.0.0.1', port), redis.pid);
      assert.ok((await readdir(dir)).some((f) => /appendonly/.test(f)), 'persistence under the data dir');
    } finally {
      await redis.stop();
    }
    assert.equal(await redisProcessId('127.0.0.1', Number(new URL(redis.url).port), 300), null, 'stopped with the process');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('REDIS_URL set: used as given, nothing started or contacted', async () => {
  const redis = await resolveRedis('redis://redis.example:6380/2', '/nonexistent/never-created');
  assert.deepEqual({ url: redis.url, source: redis.source, pid: redis.pid }, { url: 'redis://redis.example:6380/2', source: 'REDIS_URL', pid: undefined });
  await redis.stop();
});
