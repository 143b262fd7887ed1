// The worker registry: registrations live for their ttl (renewed by each heartbeat), are gone at
// once when withdrawn, and the models they announced stay known.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerRegistry, type WorkerRegistration } from '../src/index.ts';
import { privateRedis } from './helpers.ts';

const db = privateRedis();

const registration = (id: string, models: string[]): WorkerRegistration => ({
  id, host: 'h', pid: 1, started_at: new Date().toISOString(),
  models: models.map((m) => ({ id: m, created: 1, sha256: 'ab', info: { kind: 'sd1' } })),
  capabilities: { job_types: ['txt2img'], execution_providers: ['cpu'], concurrency: 1, batch_max_jobs: 1 },
});

test('live workers: announced until their ttl lapses or they withdraw; announced models stay known', async () => {
  const registry = new WorkerRegistry(db.redis, { prefix: 'wr1' });
  await registry.announce(registration('w1', ['a', 'b']), 60_000);
  await registry.announce(registration('w2', ['b']), 300);
  let read = await registry.read();
  assert.deepEqual(read.workers.map((w) => w.id).sort(), ['w1', 'w2']);
  assert.deepEqual(read.workers.find((w) => w.id === 'w1')?.models.map((m) => m.id), ['a', 'b']);

  await new Promise((r) => setTimeout(r, 400)); // w2 missed its heartbeats
  read = await registry.read();
  assert.deepEqual(read.workers.map((w) => w.id), ['w1']);

  await registry.withdraw('w1');
  read = await registry.read();
  assert.deepEqual(read.workers, []);
  assert.deepEqual(read.known.map((m) => m.id).sort(), ['a', 'b'], 'the models stay known (QUEUE_WITHOUT_WORKERS validates against them)');
  assert.equal(await db.redis.zcard('wr1:workers'), 0, 'no index entry left behind');
});

test('a heartbeat renews the registration (same id, later expiry), and cleans up lapsed ones', async () => {
  const registry = new WorkerRegistry(db.redis, { prefix: 'wr2' });
  await registry.announce(registration('old', ['a']), 50);
  await registry.announce(registration('w', ['a']), 200);
  await new Promise((r) => setTimeout(r, 120));
  await registry.announce(registration('w', ['a']), 200);
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual((await registry.read()).workers.map((w) => w.id), ['w'], 'renewed past its first ttl');
  assert.equal(await db.redis.zscore('wr2:workers', 'old'), null, 'the lapsed entry was removed by the next announce');
});
