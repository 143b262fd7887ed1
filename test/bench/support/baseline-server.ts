// The baselines of the API bench, as their own process (like the API): a minimal Fastify handler
// that only calls BullMQ Queue.add (`queue-add`), or only one HGETALL (`hgetall`). Prints its port.
//   scripts/node test/bench/support/baseline-server.ts queue-add|hgetall <redis-url>
import Fastify from 'fastify';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BASELINE_RECORD, BASELINE_RECORD_KEY } from './baseline-record.ts';

const [mode, redisUrl] = process.argv.slice(2);
if ((mode !== 'queue-add' && mode !== 'hgetall') || !redisUrl) throw new Error('usage: baseline-server.ts queue-add|hgetall <redis-url>');
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
const app = Fastify();
if (mode === 'queue-add') {
  const queue = new Queue('baseline', { connection: redis, prefix: 'bench-baseline' });
  let n = 0;
  app.post('/jobs', async (_req, reply) => {
    const job = await queue.add('baseline', { n: ++n });
    reply.code(202);
    return { id: job.id };
  });
} else {
  await redis.hset(BASELINE_RECORD_KEY, BASELINE_RECORD);
  app.get('/record', async () => await redis.hgetall(BASELINE_RECORD_KEY));
}
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
