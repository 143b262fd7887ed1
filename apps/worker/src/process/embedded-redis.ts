// The embedded default for REDIS_URL: a Redis already on 127.0.0.1:6379, else a private
// redis-server (AOF on, under .data/redis) that lives and dies with this process.
import { mkdir } from 'node:fs/promises';
import { isListening, startLocalRedis } from '@sdsvc/local-redis';

export interface ResolvedRedis {
  url: string;
  /** Where the URL came from, for the start-up log line. */
  source: 'REDIS_URL' | 'localhost:6379' | 'private redis-server';
  /** Stops the private server (no-op otherwise). */
  stop(): Promise<void>;
}

export async function resolveRedis(configured: string | undefined, dataDir: string): Promise<ResolvedRedis> {
  if (configured) return { url: configured, source: 'REDIS_URL', stop: async () => {} };
  if (await isListening('127.0.0.1', 6379, 300)) {
    return { url: 'redis://127.0.0.1:6379', source: 'localhost:6379', stop: async () => {} };
  }
  await mkdir(dataDir, { recursive: true });
  try {
    const local = await startLocalRedis({ dir: dataDir, appendOnly: true });
    return { url: local.url, source: 'private redis-server', stop: () => local.stop() };
  } catch (err) {
    throw new Error(
      `No Redis available: REDIS_URL is unset, nothing answers on 127.0.0.1:6379, and a private `
      + `redis-server could not be started (${(err as Error).message}). Install redis-server or set REDIS_URL.`,
    );
  }
}
