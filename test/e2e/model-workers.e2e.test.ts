// Model-aware workers with real processes: two workers holding different models (WORKER_MODELS),
// the API (QUEUE_WITHOUT_WORKERS=false, the default) accepting jobs only for models a live worker
// holds, each job run by a worker that holds its model, and a stopped worker's models refused again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startE2eStack, type E2eStack } from '../support/e2e-stack.ts';
import type { ServiceProcess } from '../support/service-process.ts';
import { waitFor } from '../support/wait-for.ts';

let stack: E2eStack;
let sd15: ServiceProcess;
let sd2: ServiceProcess;

before(async () => {
  stack = await startE2eStack({ QUEUE_WITHOUT_WORKERS: 'false', WORKER_HEARTBEAT_MS: '500' });
});
after(async () => { await stack?.stop(); });

const post = async (body: Record<string, unknown>) => {
  const res = await fetch(`${stack.baseUrl}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ steps: 2, ...body }) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as { id: string; code?: string } };
};
const models = async () => ((await (await fetch(`${stack.baseUrl}/v1/models`)).json()) as { data: Array<{ id: string; workers: number; execution_providers: string[] }> }).data;
const workersOf = async (id: string) => (await models()).find((m) => m.id === id)?.workers;

test('no worker yet: 503 model_unavailable with Retry-After', async () => {
  const res = await post({ prompt: 'too early' });
  assert.equal(res.status, 503);
  assert.equal(res.json.code, 'model_unavailable');
  assert.ok(Number(res.retryAfter) > 0);
});

test('each job runs on a worker that holds its model; /v1/models counts the live workers per model', async () => {
  [sd15, sd2] = await Promise.all([
    stack.startWorker({ WORKER_MODELS: 'tiny-sd15', WORKER_HEALTH_PORT: '0' }),
    stack.startWorker({ WORKER_MODELS: 'tiny-sd2-v', DEFAULT_MODEL: 'tiny-sd2-v' }),
  ]);
  await waitFor(async () => ((await workersOf('tiny-sd15')) === 1 && (await workersOf('tiny-sd2-v')) === 1) || undefined,
    { timeoutMs: 10_000, what: 'both workers registered' });
  assert.equal(await workersOf('tiny-sdxl'), 0, 'nobody holds tiny-sdxl');
  // Each worker preloaded its first model: the provider its graphs run on is announced.
  assert.deepEqual((await models()).find((m) => m.id === 'tiny-sd2-v')?.execution_providers, ['cpu']);
  const refused = await post({ prompt: 'nobody holds it', model: 'tiny-sdxl' });
  assert.equal(refused.status, 503);
  assert.equal(refused.json.code, 'model_unavailable');

  const jobs = [];
  for (let i = 0; i < 2; i++) {
    for (const model of ['tiny-sd15', 'tiny-sd2-v']) {
      const res = await post({ prompt: `a lighthouse ${i}`, model });
      assert.equal(res.status, 202, JSON.stringify(res.json));
      jobs.push({ id: res.json.id, model });
    }
  }
  for (const job of jobs) {
    const done = await stack.waitForJob(job.id, (j) => j.status === 'succeeded' || j.status === 'failed', 'finished');
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    const runner = job.model === 'tiny-sd15' ? sd15 : sd2;
    const other = job.model === 'tiny-sd15' ? sd2 : sd15;
    assert.ok(runner.logs.some((l) => l.job_id === job.id && l.msg === 'job started'), `${job.id} (${job.model}) started on the worker holding it`);
    assert.ok(!other.logs.some((l) => l.job_id === job.id && l.msg === 'job started'), `${job.id} never started on the other worker`);
  }
});

test('a stopped worker withdraws at once: its model answers 503 again, the other still takes jobs', async () => {
  await sd2.stop('SIGTERM');
  await waitFor(async () => ((await workersOf('tiny-sd2-v')) === 0) || undefined, { timeoutMs: 5000, what: 'tiny-sd2-v without workers' });
  assert.equal((await post({ prompt: 'after the stop', model: 'tiny-sd2-v' })).status, 503);
  const ok = await post({ prompt: 'still served', model: 'tiny-sd15' });
  assert.equal(ok.status, 202);
  const done = await stack.waitForJob(ok.json.id, (j) => j.status === 'succeeded', 'succeeded');
  assert.equal(done.status, 'succeeded');
});
