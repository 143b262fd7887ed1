// A real Redis for tests: a testcontainers Redis when a Docker engine answers, else a private
// redis-server on a free loopback port (never the shared one on 6379).
import { existsSync } from 'node:fs';
import { startLocalRedis } from '@sdsvc/local-redis';

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
  const container = await new GenericContainer('redis:7-alpine')
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  const host = container.getHost();
  const port = container.getMappedPort(6379);
  return { kind: 'container', url: `redis://${host}:${port}`, host, port, stop: async () => { await container.stop(); } };
}

export async function startTestRedis(): Promise<TestRedis> {
  if (dockerLikely() && process.env.TEST_REDIS !== 'local') {
    try {
      return await startContainer();
    } catch {
      // A socket that no engine answers (or no image available offline): fall back.
    }
  }
  const local = await startLocalRedis();
  return { kind: 'redis-server', url: local.url, host: '127.0.0.1', port: local.port, stop: () => local.stop() };
}
