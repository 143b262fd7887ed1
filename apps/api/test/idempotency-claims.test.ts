// Idempotency-Key claimed before any work (issue #7): concurrent twins get one job; a request whose
// job could not be queued releases its key (and removes the inputs it stored), so a retry creates it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { GenerateQueue } from '@sdsvc/jobs';
import { pngBase64, startHarness, type Harness } from './harness.ts';

const harnesses: Harness[] = [];
after(async () => { for (const h of harnesses) await h.close(); });

test('two concurrent requests with one Idempotency-Key create one job', async () => {
  const h = await startHarness();
  harnesses.push(h);
  const send = () => h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'twins', seed: 5 }, headers: { 'idempotency-key': 'twin-key' } });
  const answers = await Promise.all([send(), send(), send()]);
  for (const a of answers) assert.equal(a.statusCode, 202, a.body);
  const ids = new Set(answers.map((a) => a.json().id as string));
  assert.equal(ids.size, 1, `one job for every twin (${[...ids].join(', ')})`);
  assert.equal(answers.filter((a) => a.headers['idempotent-replayed'] === 'true').length, 2);
  assert.equal(await h.redis.zcard('t:jobs:active'), 1, 'one record');
  assert.equal(await h.queue.queueFor('tiny-sd15').count(), 1, 'one queue entry');
});

test('a job that could not be queued releases its key (a retry creates the job) and removes its stored inputs', async () => {
  // A queue whose Redis does not answer: a closed port (bound, then released).
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => { const p = (srv.address() as { port: number }).port; srv.close(() => resolve(p)); });
  });
  const deadQueue = new GenerateQueue({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null }, { prefix: 't' });
  const h = await startHarness({}, { appDeps: { queue: deadQueue } });
  harnesses.push(h);
  const payload = { type: 'img2img', prompt: 'retry me', seed: 7, init_image: await pngBase64(64, 64) };
  const headers = { 'idempotency-key': 'retry-key' };
  const failed = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload, headers });
  assert.equal(failed.statusCode, 503, failed.body);
  assert.equal(failed.json().code, 'queue_unavailable');
  assert.equal(await h.redis.get('t:idempotency:retry-key'), null, 'the key was released');
  const files = (await readdir(h.objects.root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.'));
  assert.deepEqual(files.map((e) => e.name), [], 'the stored init image was removed');
  assert.equal(await h.redis.zcard('t:jobs:active'), 0, 'no record left for the reconciler to run');
  await deadQueue.close().catch(() => {});
});
