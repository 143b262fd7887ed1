// A real app for tests: private redis-server, temporary file store, the bundled tiny models,
// and the real outbound URL rules from @sdsvc/net.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '@sdsvc/config';
import { GenerateQueue, IdempotencyStore, JobStore } from '@sdsvc/jobs';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { createLogger, type Logger } from '@sdsvc/logging';
import { assertPublicUrl, fetchImage } from '@sdsvc/net';
import { FileObjectStore, type ObjectStore } from '@sdsvc/storage';
import { buildApp, type AppDeps } from '../src/app.ts';

export const MODELS_DIR = fileURLToPath(new URL('../../../models', import.meta.url));

export interface Harness {
  app: FastifyInstance;
  config: Config;
  redis: Redis;
  store: JobStore;
  queue: GenerateQueue;
  objects: FileObjectStore;
  redisServer: TestRedis;
  close(): Promise<void>;
}

export interface HarnessOptions {
  logger?: Logger;
  /** The app's object store instead of the temporary file store (which `objects` still is). */
  objectStore?: ObjectStore;
  /** /readyz timeout per dependency; null = the app's default (2 s). Default 500 ms. */
  readyTimeoutMs?: number | null;
  /** More app dependencies/options (rate-limit window, overload thresholds…), spread last. */
  appDeps?: Partial<AppDeps>;
}

export async function startHarness(env: Record<string, string> = {}, opts: HarnessOptions = {}): Promise<Harness> {
  const redisServer = await startTestRedis();
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-api-test-'));
  const config = loadConfig({
    REDIS_URL: redisServer.url, STORAGE_URL: `file://${dir}`, MODELS_DIR, DEFAULT_MODEL: 'tiny-sd15',
    MAX_BODY_BYTES: '2MiB', MAX_IMAGE_BYTES: '256KiB', MAX_IMAGE_PIXELS: '1000000',
    FILE_URL_SECRET: 'test-secret-0123456789', PUBLIC_BASE_URL: 'http://api.test', LOG_LEVEL: 'silent',
    // No worker runs in these tests: jobs stay queued (model-availability.test.ts turns it off).
    QUEUE_WITHOUT_WORKERS: 'true', ...env,
  });
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  const store = new JobStore(redis, { prefix: 't', shareParams: true }); // as server.ts
  const queue = new GenerateQueue(redis, { prefix: 't' });
  const objects = await FileObjectStore.open({ root: dir, publicBaseUrl: config.publicBaseUrl, secret: config.fileUrlSecret });
  const app = await buildApp({
    config, redis, store, queue, objectStore: opts.objectStore ?? objects, idempotency: new IdempotencyStore(redis, { prefix: 't' }),
    logger: opts.logger ?? createLogger({ level: 'silent' }),
    fetchImage: async (url) => (await fetchImage(url, { maxBytes: config.maxImageBytes, timeoutMs: 2000, allowPrivate: config.allowPrivateUrls })).body,
    checkWebhookUrl: async (url) => { await assertPublicUrl(url, { allowPrivate: config.allowPrivateUrls }); },
    sseHeartbeatMs: 200,
    ...(opts.readyTimeoutMs === null ? {} : { readyTimeoutMs: opts.readyTimeoutMs ?? 500 }),
    ...opts.appDeps,
  });
  await app.ready();
  return {
    app, config, redis, store, queue, objects, redisServer,
    async close() {
      await app.close();
      await store.close();
      await queue.close().catch(() => {});
      redis.disconnect();
      await redisServer.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function pngBase64(width: number, height: number, color = { r: 200, g: 30, b: 30 }): Promise<string> {
  const buf = await sharp({ create: { width, height, channels: 3, background: color } }).png().toBuffer();
  return buf.toString('base64');
}

/** Listens on a free loopback port (real sockets: SSE, disconnects); returns the base URL. */
export async function listen(h: Harness): Promise<string> {
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = h.app.server.address() as import('node:net').AddressInfo;
  return `http://127.0.0.1:${port}`;
}
