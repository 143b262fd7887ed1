import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import type { JobParams } from '@sdsvc/contracts';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import type { NewJobRecord } from '../src/index.ts';

export function params(over: Partial<JobParams> = {}): JobParams {
  return {
    prompt: 'a cat', prompt_raw: 'a cat', negative_prompt: '', weights: { prompt: [{ text: 'a cat', weight: 1 }], negative_prompt: [] },
    width: 64, height: 64, steps: 4, guidance_scale: 7.5, scheduler: 'pndm', seed: 42, num_images: 1, output_format: 'png', ...over,
  };
}

export function newRecord(id: string, over: Partial<NewJobRecord> = {}): NewJobRecord {
  return { id, type: 'txt2img', model: 'tiny-sd15', params: params(), ...over };
}

/** A private redis-server for the calling test file and a client on it: started before its tests,
 *  stopped after them. Read `redis` and `server` inside tests (they are set by then). */
export function privateRedis(): { readonly redis: Redis; readonly server: TestRedis } {
  const ctx = {} as { redis: Redis; server: TestRedis };
  before(async () => {
    ctx.server = await startTestRedis();
    ctx.redis = new Redis(ctx.server.url);
  });
  after(async () => {
    await ctx.redis.quit();
    await ctx.server.stop();
  });
  return ctx;
}
