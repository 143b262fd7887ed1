// A real Redis for tests: a testcontainers Redis when a Docker engine answers, else a private
// redis-server on a free loopback port (never the shared one on 6379). TEST_REDIS=local or
// TEST_REDIS=container forces one (container: fail rather than fall back). The backend a run
// uses is logged once per test process on stderr, with the reason when it fell back.
import { existsSync } from 'node:fs';
import { startLocalRedis } from '@sdsvc/local-redis';
import { reportBackend } from './backend-log.ts';

/** Pinned so every run tests the same server. */
export const REDIS_IMAGE = 'redis:7.4.1-alpine';

export interface TestRedis {
  kind: 'container' | 'redis-server';
  url: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

function dockerLikely(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

async function startContainer(): Promise<TestRedis> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(REDIS_IMAGE)
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  const host = container.getHost();
  const port = container.getMappedPort(6379);
  return { kind: 'container', url: `redis://${host}:${port}`, host, port, stop: async () => { await container.stop(); } };
}

export async function startTestRedis(): Promise<TestRedis> {
  const wanted = process.env.TEST_REDIS;
  let reason = wanted === 'local' ? 'TEST_REDIS=local' : 'no Docker socket';
  if (wanted === 'container' || (wanted !== 'local' && dockerLikely())) {
    try {
      const container = await startContainer();
      reportBackend('redis', `container ${REDIS_IMAGE}`);
      return container;
    } catch (err) {
      if (wanted === 'container') throw new Error(`TEST_REDIS=container but no Redis container started: ${(err as Error).message}`);
      // A socket that no engine answers, or no image offline: fall back, and say so.
      reason = `Docker did not start ${REDIS_IMAGE}: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  const local = await startLocalRedis();
  reportBackend('redis', `private redis-server (${reason})`);
  return { kind: 'redis-server', url: local.url, host: '127.0.0.1', port: local.port, stop: () => local.stop() };
}
