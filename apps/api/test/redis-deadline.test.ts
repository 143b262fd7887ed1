// The API connection's command timeout, kept by a watchdog instead of a timer per command: an
// unanswered command fails with ioredis's "Command timed out" (a Redis outage: 503), answered ones
// never do, and connections made from it keep ioredis's own timeout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLocalRedis, type LocalRedis } from '@sdsvc/local-redis';
import { asRedisUnavailable, waitForRedisReady } from '@sdsvc/jobs';
import { createDeadlineRedis } from '../src/redis-deadline.ts';

let server: LocalRedis;
before(async () => { server = await startLocalRedis(); });
after(async () => { await server.stop(); });

test('commands answered in time resolve; a command Redis does not answer fails after the timeout, as ioredis\'s own would', async () => {
  const redis = createDeadlineRedis(server.url, { commandTimeoutMs: 300, tickMs: 20 });
  try {
    assert.ok(await waitForRedisReady(redis, 5000));
    await redis.set('k', 'v');
    for (let i = 0; i < 2000; i++) await redis.get('k'); // many commands answered: none fails later
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(await redis.get('k'), 'v');
    server.process.kill('SIGSTOP'); // connected, silent
    const started = performance.now();
    try {
      const err = await Promise.race([
        redis.get('k').then(() => null, (e: Error) => e),
        new Promise<Error>((resolve) => { setTimeout(() => resolve(new Error('still waiting after 3 s')), 3000).unref(); }),
      ]);
      const waited = performance.now() - started;
      assert.equal(err?.message, 'Command timed out');
      assert.ok(asRedisUnavailable(err), 'counts as Redis unavailable (503)');
      assert.ok(waited >= 295 && waited < 1000, `failed after ${Math.round(waited)} ms`);
    } finally {
      server.process.kill('SIGCONT');
    }
    assert.equal(await redis.get('k'), 'v', 'answers again once Redis is back');
  } finally {
    redis.disconnect();
  }
});

test('a connection duplicated from it (a subscriber) keeps ioredis\'s per-command timeout', async () => {
  const redis = createDeadlineRedis(server.url, { commandTimeoutMs: 300 });
  const sub = redis.duplicate({ enableOfflineQueue: true });
  try {
    assert.equal(sub.options.commandTimeout, 300);
    assert.equal(redis.options.commandTimeout, undefined, 'no timer per command on the watched connection');
  } finally {
    sub.disconnect();
    redis.disconnect();
  }
});
