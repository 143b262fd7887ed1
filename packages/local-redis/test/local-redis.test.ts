// The private redis-server: ready means *our* process answers (INFO's process_id is the child's
// pid), and a port someone else holds is an error, never a silent "ready".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { redisProcessId, startLocalRedis } from '../src/index.ts';

test('starts on a free loopback port and answers as the process it spawned; stop ends it', async () => {
  const redis = await startLocalRedis();
  try {
    assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(redis.port, 6379);
    assert.equal(await redisProcessId('127.0.0.1', redis.port), redis.process.pid);
  } finally {
    await redis.stop();
  }
  assert.notEqual(redis.process.exitCode ?? redis.process.signalCode, null);
});

test('a port already taken (by something that accepts connections) fails the start instead of passing for ready', async () => {
  const sockets = new Set<Socket>();
  const squatter = createServer((s) => { sockets.add(s); });
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  const port = (squatter.address() as AddressInfo).port;
  try {
    await assert.rejects(startLocalRedis({ port }), /exited|did not answer/);
  } finally {
    for (const s of sockets) s.destroy();
    squatter.close();
  }
});

test('redisProcessId: null for something that is not Redis', async () => {
  const silent = createServer((s) => { s.end('HTTP/1.1 400 Bad Request\r\n\r\n'); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    assert.equal(await redisProcessId('127.0.0.1', (silent.address() as AddressInfo).port, 300), null);
  } finally {
    silent.close();
  }
});
