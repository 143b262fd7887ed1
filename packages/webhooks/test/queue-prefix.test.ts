// The webhook queue lives under the same BullMQ prefix as the generate queues (`bullmqPrefix`).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { bullmqPrefix, GenerateQueue, generateQueueName } from '@sdsvc/jobs';
import { startTestRedis, type TestRedis } from '../../../test/support/redis.ts';
import { WebhookDispatcher } from '../src/index.ts';

let redis: TestRedis;
before(async () => { redis = await startTestRedis(); });
after(async () => { await redis?.stop(); });

test('webhook and generate queues share bullmqPrefix(QUEUE_PREFIX)', async () => {
  const connection = { host: redis.host, port: redis.port };
  const client = new Redis(redis.url);
  const dispatcher = new WebhookDispatcher({ connection, prefix: 'pfx' });
  const generate = new GenerateQueue(client, { prefix: 'pfx' });
  try {
    assert.equal(dispatcher.queue.opts.prefix, bullmqPrefix('pfx'));
    await dispatcher.enqueue({ jobId: 'j1', url: 'https://example.com/h', type: 'job.succeeded', data: {} });
    await generate.add('j1', { jobId: 'j1', model: 'm' });
    const keys = (await client.keys('pfx:*')).sort();
    assert.ok(keys.some((k) => k.startsWith(`${bullmqPrefix('pfx')}:webhooks:`)), keys.join(', '));
    assert.ok(keys.some((k) => k.startsWith(`${bullmqPrefix('pfx')}:${generateQueueName('m')}:`)), keys.join(', '));
    assert.deepEqual(keys.filter((k) => !k.startsWith(`${bullmqPrefix('pfx')}:`)), [], 'no BullMQ key outside <prefix>:bull');
  } finally {
    await dispatcher.close();
    await generate.close();
    client.disconnect();
  }
});
