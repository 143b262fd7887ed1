// The embedded default for REDIS_URL: REDIS_URL when set, else a private redis-server (AOF on,
// under .data/redis) on a free loopback port that lives and dies with this process. A Redis that
// happens to run on 127.0.0.1:6379 is never used unless REDIS_URL names it: the service writes
// only into a Redis it started or one it was told to use.
import { mkdir } from 'node:fs/promises';
import { startLocalRedis } from '@sdsvc/local-redis';

export interface ResolvedRedis {
  url: string;
  /** Where the URL came from, for the start-up log line. */
  source: 'REDIS_URL' | 'private redis-server';
  /** pid of the private server (absent for REDIS_URL). */
  pid?: number;
  /** Stops the private server (no-op otherwise). */
  stop(): Promise<void>;
}

export async function resolveRedis(configured: string | undefined, dataDir: string): Promise<ResolvedRedis> {
  if (configured) return { url: configured, source: 'REDIS_URL', stop: async () => {} };
  await mkdir(dataDir, { recursive: true });
  try {
    const local = await startLocalRedis({ dir: dataDir, appendOnly: true });
    return { url: local.url, source: 'private redis-server', pid: local.process.pid, stop: () => local.stop() };
  } catch (err) {
    throw new Error(
      `No Redis available: REDIS_URL is unset and a private redis-server could not be started `
      + `(${(err as Error).message}). Install redis-server or set REDIS_URL.`,
    );
  }
}
