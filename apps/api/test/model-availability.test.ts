// Model-aware submission: the API accepts a job only for a model a live worker holds (the worker
// registry in Redis), validates it against what the worker announced (no model folder needed
// here), and answers 503 model_unavailable + Retry-After otherwise — or queues it when
// QUEUE_WITHOUT_WORKERS=true. Real Redis, real registry entries, the app through inject.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { exportIdentity, readModelInfo } from '@sdsvc/engine/model-info';
import { WorkerRegistry, type ModelAnnouncement, type WorkerRegistration } from '@sdsvc/jobs';
import { MODELS_DIR, startHarness, type Harness } from './harness.ts';

/** tiny-sd15 as a worker announces it, under `id` (a model only the worker has when id differs). */
async function announcement(id: string): Promise<ModelAnnouncement> {
  const { dir, ...info } = await readModelInfo(join(MODELS_DIR, 'tiny-sd15'));
  return { id, ...(await exportIdentity(dir)), info: { ...info, id } as unknown as Record<string, unknown> };
}

async function registration(id: string, models: string[]): Promise<WorkerRegistration> {
  return {
    id, host: 'gpu-host', pid: 1, started_at: new Date().toISOString(),
    models: await Promise.all(models.map(announcement)),
    capabilities: { job_types: ['txt2img', 'img2img'], execution_providers: ['cpu'], concurrency: 1, batch_max_jobs: 1 },
  };
}

const modelsList = async (h: Harness) => (await h.app.inject({ url: '/v1/models' })).json().data as Array<{ id: string; workers: number; available: boolean; created: number }>;
const submit = (h: Harness, body: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a lighthouse', steps: 1, ...body } });

describe('QUEUE_WITHOUT_WORKERS=false (the default)', () => {
  let h: Harness;
  let registry: WorkerRegistry;
  before(async () => {
    // A long background refresh: what these tests see comes from the on-demand re-read.
    h = await startHarness({ QUEUE_WITHOUT_WORKERS: 'false' }, { appDeps: { workerRefreshMs: 60_000 } });
    registry = new WorkerRegistry(h.redis, { prefix: 't' });
  });
  after(async () => { await h.close(); });
  afterEach(async () => { await registry.withdraw('w1'); });

  test('no live worker holds the model → 503 model_unavailable with Retry-After, nothing stored or queued', async () => {
    const res = await submit(h, {});
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.json().code, 'model_unavailable');
    assert.match(res.json().detail, /tiny-sd15.*not held by any running worker/);
    assert.ok(Number(res.headers['retry-after']) > 0);
    assert.equal(await h.redis.zcard('t:jobs:active'), 0, 'no record');
    assert.equal(await h.queue.queueFor('tiny-sd15').count(), 0, 'no queue entry');
    const listed = (await modelsList(h)).find((m) => m.id === 'tiny-sd15');
    assert.deepEqual([listed?.workers, listed?.available], [0, false]);
  });

  test('a worker that has just registered is seen at once (re-read before refusing); the job lands in that model\'s queue', async () => {
    await new Promise((r) => setTimeout(r, 300)); // past the re-read spacing of the previous test's reading
    await registry.announce(await registration('w1', ['tiny-sd15']), 10_000);
    const res = await submit(h, {});
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(await h.queue.queueFor('tiny-sd15').count(), 1);
    const listed = (await modelsList(h)).find((m) => m.id === 'tiny-sd15');
    assert.deepEqual([listed?.workers, listed?.available], [1, true]);
    const workers = (await h.app.inject({ url: '/v1/workers' })).json();
    assert.deepEqual(workers.data.map((w: { id: string; models: Array<{ id: string }> }) => [w.id, w.models.map((m) => m.id)]), [['w1', ['tiny-sd15']]]);
    assert.deepEqual(workers.data[0].capabilities.job_types, ['txt2img', 'img2img']);
  });

  test('a model only a worker has (no folder on the API) is listed, validated against its announcement and queued', async () => {
    await new Promise((r) => setTimeout(r, 300));
    await registry.announce(await registration('w1', ['remote-sd15']), 10_000);
    const bad = await submit(h, { model: 'remote-sd15', width: 72, height: 64 });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.equal(bad.json().code, 'invalid_size', '72 is not a multiple of the announced size step');
    const res = await submit(h, { model: 'remote-sd15' });
    assert.equal(res.statusCode, 202, res.body);
    assert.equal(res.json().model, 'remote-sd15');
    assert.deepEqual([res.json().params.width, res.json().params.height], [64, 64], 'the announced native size');
    assert.equal(await h.queue.queueFor('remote-sd15').count(), 1);
    const listed = (await modelsList(h)).find((m) => m.id === 'remote-sd15');
    assert.equal(listed?.workers, 1);
    assert.ok((listed?.created ?? 0) > 0, 'created from the announcement');
  });

  test('a model nobody ever announced and no folder holds → 400 unknown_model', async () => {
    const res = await submit(h, { model: 'never-seen' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'unknown_model');
  });
});

describe('QUEUE_WITHOUT_WORKERS=true', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ QUEUE_WITHOUT_WORKERS: 'true' }, { appDeps: { workerRefreshMs: 100 } });
    // A worker announced remote-sd15 once, then stopped.
    const registry = new WorkerRegistry(h.redis, { prefix: 't' });
    await registry.announce(await registration('gone', ['remote-sd15']), 10_000);
    await registry.withdraw('gone');
    await new Promise((r) => setTimeout(r, 300));
  });
  after(async () => { await h.close(); });

  test('jobs for a model no live worker holds wait in its queue; /v1/models says so', async () => {
    for (const model of ['tiny-sd15', 'remote-sd15']) {
      const res = await submit(h, { model });
      assert.equal(res.statusCode, 202, res.body);
      assert.equal(await h.queue.queueFor(model).count(), 1, model);
    }
    const listed = (await modelsList(h)).find((m) => m.id === 'remote-sd15');
    assert.deepEqual([listed?.workers, listed?.available], [0, true]);
  });
});

test('GET /v1/workers needs an admin key when keys are configured', async (t) => {
  const h = await startHarness({ API_KEYS: 'user-key-0123456789', ADMIN_API_KEYS: 'admin-key-0123456789' });
  t.after(() => h.close());
  await new WorkerRegistry(h.redis, { prefix: 't' }).announce(await registration('w9', ['tiny-sd15']), 10_000);
  const as = (key: string | null) => h.app.inject({ url: '/v1/workers', headers: key ? { authorization: `Bearer ${key}` } : {} });
  assert.equal((await as(null)).statusCode, 401);
  assert.equal((await as('user-key-0123456789')).statusCode, 403);
  const ok = await as('admin-key-0123456789');
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json().data.map((w: { id: string }) => w.id), ['w9']);
});
