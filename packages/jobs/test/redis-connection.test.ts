// The fail-fast command connection against a real redis-server: refused at once while it is
// stopped, timed out while it is frozen (SIGSTOP: the socket stays open, nothing answers), back by
// itself when it returns; every such failure is classified as RedisUnavailableError.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startLocalRedis, type LocalRedis } from '@sdsvc/local-redis';
import type { Redis } from 'ioredis';
import { waitFor } from '../../../test/support/wait-for.ts';
import { asRedisUnavailable, createFailFastRedis, isRedisUnavailable, quitRedis, RedisUnavailableError, waitForRedisReady } from '../src/index.ts';

let dir: string;
let port: number;
let server: LocalRedis | null = null;
let redis: Redis;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdsvc-failfast-'));
  port = await freePort();
  server = await startLocalRedis({ port, dir });
  redis = createFailFastRedis(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 300 });
  redis.on('error', () => {});
  assert.equal(await waitForRedisReady(redis, 5000), true);
});
after(async () => {
  await quitRedis(redis, 500);
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The command's error (it must fail), classified. */
async function failure(p: Promise<unknown>): Promise<RedisUnavailableError | null> {
  const err = await p.then(() => assert.fail('the command succeeded'), (e: unknown) => e);
  return asRedisUnavailable(err);
}

test('stopped: commands are refused at once as RedisUnavailableError, not queued; restarted: they work again', async () => {
  await redis.set('k', 'before');
  await server!.stop();
  server = null;
  await waitFor(() => redis.status !== 'ready', { what: 'the connection to notice' });
  const refused = await failure(redis.get('k'));
  assert.ok(refused instanceof RedisUnavailableError, 'classified');
  // Not queued: the write refused now must not happen later, once Redis is back.
  await failure(redis.set('k', 'during'));

  server = await startLocalRedis({ port, dir });
  await waitFor(async () => (await redis.ping().catch(() => null)) === 'PONG', { what: 'the connection to come back', timeoutMs: 10_000 });
  assert.equal(await redis.get('k'), null, 'a fresh server (no persistence here) and no replayed write');
});

test('frozen (SIGSTOP): a command times out as RedisUnavailableError instead of waiting', async () => {
  server!.process.kill('SIGSTOP');
  try {
    const err = await failure(redis.get('k'));
    assert.ok(err, 'command timeout counts as unavailable');
  } finally {
    server!.process.kill('SIGCONT');
  }
  await waitFor(async () => (await redis.ping().catch(() => null)) === 'PONG', { what: 'answers again', timeoutMs: 10_000 });
});

test('other errors are not Redis outages', () => {
  assert.equal(isRedisUnavailable(new Error('ERR wrong number of arguments')), false);
  assert.equal(isRedisUnavailable(new TypeError('x is undefined')), false);
  assert.equal(isRedisUnavailable('a string'), false);
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  assert.equal(isRedisUnavailable(refused), true);
  const own = new RedisUnavailableError('down');
  assert.equal(asRedisUnavailable(own), own);
});
