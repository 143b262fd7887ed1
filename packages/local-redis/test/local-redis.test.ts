// The private redis-server: ready means *our* process answers (INFO's process_id is the child's
// pid), and a port someone else holds is an error, never a silent "ready".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('a port lost to another process between probe and bind is retried on a fresh port', async () => {
  // A redis-server stand-in whose first start fails as a lost race does (the real message), then
  // the real server: startLocalRedis must try again on another port instead of giving up.
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-redis-race-'));
  const calls = join(dir, 'calls');
  const binary = join(dir, 'redis-server');
  await writeFile(calls, '');
  await writeFile(binary, `#!/bin/sh
echo "$2" >> "${calls}"
if [ "$(wc -l < "${calls}")" -eq 1 ]; then
  echo "# Warning: Could not create server TCP listening socket 127.0.0.1:$2: bind: Address already in use"
  exit 1
fi
exec redis-server "$@"
`);
  await chmod(binary, 0o755);
  try {
    const redis = await startLocalRedis({ binary });
    try {
      const ports = (await readFile(calls, 'utf8')).trim().split('\n').map(Number);
      assert.equal(ports.length, 2, 'one failed start, one retry');
      assert.equal(ports[1], redis.port);
      assert.equal(await redisProcessId('127.0.0.1', redis.port), redis.process.pid);
    } finally {
      await redis.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
