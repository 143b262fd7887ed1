import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../../test/support/wait-for.ts';
import { pngBase64, startHarness, type Harness } from './harness.ts';

let h: Harness;
let png64: string;
before(async () => {
  h = await startHarness();
  png64 = await pngBase64(64, 64);
});
after(async () => { await h.close(); });

const submit = (payload: object, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'POST', url: '/v1/jobs', payload, headers });

function multipart(fields: Record<string, string>, files: Record<string, Buffer>): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----sdsvc-test-boundary';
  const chunks: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  for (const [k, v] of Object.entries(files)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"; filename="${k}.png"\r\nContent-Type: image/png\r\n\r\n`), v, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** Job records and BullMQ entries in the harness's Redis. */
async function countJobs(): Promise<{ records: number; queued: number }> {
  const keys = await h.redis.keys('t:job:*');
  const records = keys.filter((k) => /^t:job:[^:]+$/.test(k)).length;
  const counts = await h.queue.queueFor('tiny-sd15').getJobCounts('wait', 'prioritized', 'delayed', 'active', 'completed', 'failed');
  return { records, queued: Object.values(counts).reduce((a, b) => a + b, 0) };
}

/** The id of the job a pending request submitted, once it is in BullMQ's wait list. */
async function queuedJobWithPrompt(prompt: string): Promise<string> {
  return await waitFor(async () => {
    const jobs = await h.queue.queueFor('tiny-sd15').getJobs(['wait', 'prioritized']);
    const recs = await Promise.all(jobs.map((j) => h.store.get(j.id!)));
    return recs.find((r) => r?.params.prompt_raw === prompt)?.id;
  }, { what: `queued job "${prompt}"`, timeoutMs: 10_000 });
}

describe('jobs', () => {
  test('txt2img: 202 + Location, normalised params with a chosen seed, queued in BullMQ with a position', async () => {
    const res = await submit({ prompt: 'a (red:1.2) cat (-blurry)', negative_prompt: 'ugly', metadata: { order: 7 } });
    assert.equal(res.statusCode, 202, res.body);
    const job = res.json();
    assert.equal(res.headers.location, `/v1/jobs/${job.id}`);
    assert.equal(job.status, 'queued');
    assert.equal(job.model, 'tiny-sd15');
    assert.equal(job.params.prompt, 'a (red:1.2) cat');
    assert.equal(job.params.prompt_raw, 'a (red:1.2) cat (-blurry)');
    assert.equal(job.params.negative_prompt, 'ugly, blurry');
    assert.ok(job.params.weights.prompt.some((w: { text: string; weight: number }) => w.text === 'red' && w.weight === 1.2));
    assert.ok(Number.isInteger(job.params.seed));
    assert.deepEqual([job.params.width, job.params.height], [64, 64]);
    assert.deepEqual(job.metadata, { order: 7 });
    assert.equal(typeof job.queue_position, 'number');
    const queued = await h.queue.queueFor('tiny-sd15').getJob(job.id);
    assert.deepEqual(queued?.data, { jobId: job.id, model: 'tiny-sd15' });
    const got = await h.app.inject({ url: `/v1/jobs/${job.id}` });
    assert.equal(got.json().id, job.id);
    assert.equal(typeof got.json().queue_position, 'number');
  });

  test('img2img by multipart: file part decoded, stored as PNG under <job>/inputs/, size from the image', async () => {
    const img = Buffer.from(await pngBase64(40, 56), 'base64');
    const { payload, headers } = multipart({ type: 'img2img', prompt: 'a cat', strength: '0.5', seed: '42' }, { init_image: img });
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload, headers });
    assert.equal(res.statusCode, 202, res.body);
    const job = res.json();
    assert.equal(job.params.strength, 0.5);
    assert.equal(job.params.seed, 42);
    assert.equal(job.params.resize_mode, 'resize');
    assert.deepEqual([job.params.width, job.params.height], [32, 48]); // rounded down to the 16 px grid
    const ref = job.params.inputs.init_image;
    assert.equal(ref.key, `${job.id}/inputs/init_image.png`);
    const stored = await h.objects.get(ref.key);
    assert.equal(stored.subarray(1, 4).toString(), 'PNG');
  });

  test('inpaint with a `json` part and two file parts', async () => {
    const img = Buffer.from(png64, 'base64');
    const { payload, headers } = multipart({ json: JSON.stringify({ type: 'inpaint', prompt: 'a dog', mask_blur: 2 }) }, { init_image: img, mask_image: img });
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload, headers });
    assert.equal(res.statusCode, 202, res.body);
    const job = res.json();
    assert.equal(job.params.mask_blur, 2);
    assert.equal(job.params.overlay, true);
    assert.equal(job.params.strength, 1);
    assert.ok(job.params.inputs.mask_image.key.endsWith('/inputs/mask_image.png'));
  });

  test('txt2img with {image} and reference_image keeps the reference as an input', async () => {
    const res = await submit({ prompt: 'a {image} cat', reference_image: `data:image/png;base64,${png64}` });
    assert.equal(res.statusCode, 202, res.body);
    const job = res.json();
    assert.equal(job.params.prompt, 'a cat');
    assert.equal(job.params.reference_strength, 0.75);
    assert.ok(job.params.inputs.reference_image);
  });

  test('Idempotency-Key: same body → same job (no second job); other body → 409', async () => {
    const headers = { 'idempotency-key': 'key-1' };
    const a = await submit({ prompt: 'same', seed: 1 }, headers);
    assert.equal(a.statusCode, 202);
    const before = await countJobs();
    const b = await submit({ seed: 1, prompt: 'same' }, headers);
    assert.equal(b.statusCode, 202);
    assert.equal(b.json().id, a.json().id);
    assert.equal(b.headers['idempotent-replayed'], 'true');
    const c = await submit({ prompt: 'different', seed: 1 }, headers);
    assert.equal(c.statusCode, 409);
    assert.equal(c.json().code, 'idempotency_conflict');
    // Neither the replay nor the conflict wrote a record or a queue entry (under any id).
    assert.deepEqual(await countJobs(), before);
  });

  test('Idempotency-Key with multipart: the file bytes are part of the body hash', async () => {
    const red = Buffer.from(await pngBase64(32, 32), 'base64');
    const blue = Buffer.from(await pngBase64(32, 32, { r: 0, g: 0, b: 200 }), 'base64');
    const send = (file: Buffer) => {
      const { payload, headers } = multipart({ type: 'img2img', prompt: 'a cat', seed: '1' }, { init_image: file });
      return h.app.inject({ method: 'POST', url: '/v1/jobs', payload, headers: { ...headers, 'idempotency-key': 'mp-1' } });
    };
    const first = await send(red);
    assert.equal(first.statusCode, 202, first.body);
    const before = await countJobs();
    const replay = await send(red);
    assert.equal(replay.statusCode, 202);
    assert.equal(replay.json().id, first.json().id);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    // Same text parts, another image: a different body.
    const other = await send(blue);
    assert.equal(other.statusCode, 409, other.body);
    assert.equal(other.json().code, 'idempotency_conflict');
    assert.deepEqual(await countJobs(), before);
  });

  test('cancel a queued job → canceled and removed from the queue', async () => {
    const job = (await submit({ prompt: 'to cancel' })).json();
    const res = await h.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, 'canceled');
    assert.equal(await h.queue.queueFor('tiny-sd15').getJob(job.id), undefined);
    assert.equal(await h.queue.position(job.id, 'tiny-sd15'), null);
  });

  test('cancel a running job → 202 cancel requested; a finished job → 409; unknown → 404', async () => {
    const job = (await submit({ prompt: 'running' })).json();
    // A live worker holds the queue entry's lock while the job runs (BullMQ refuses to remove it).
    await h.redis.set(`t:bull:generate.tiny-sd15:${job.id}:lock`, 'test-token', 'PX', 60_000);
    await h.store.markRunning(job.id, { total: 20, attempt: 1, attemptId: 'test-token' });
    const res = await h.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel` });
    assert.equal(res.statusCode, 202);
    assert.equal(res.json().status, 'running');
    assert.equal(res.json().cancel_requested, true);
    await h.store.markCanceled(job.id);
    const again = await h.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel` });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'job_finished');
    const missing = await h.app.inject({ method: 'POST', url: '/v1/jobs/nope/cancel' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'job_not_found');
    assert.equal((await h.app.inject({ url: '/v1/jobs/nope' })).json().code, 'job_not_found');
  });

  test('Prefer: wait above 60 s is capped at 60 (Preference-Applied says so)', async () => {
    const pending = submit({ prompt: 'capped wait' }, { prefer: 'wait=600' });
    const id = await queuedJobWithPrompt('capped wait');
    await h.store.markRunning(id, { total: 2, attempt: 1 });
    await h.store.markFailed(id, { code: 'model_error', message: 'ended by the test' });
    const res = await pending;
    assert.equal(res.headers['preference-applied'], 'wait=60');
    assert.equal(res.json().status, 'failed');
  });

  test('Prefer: wait=1 answers with the job still queued when nothing runs it', async () => {
    const res = await submit({ prompt: 'wait' }, { prefer: 'wait=1' });
    assert.equal(res.statusCode, 202);
    assert.equal(res.headers['preference-applied'], 'wait=1');
    assert.equal(res.json().status, 'queued');
  });

  test('Prefer: wait returns as soon as the job ends; result URLs are signed file URLs that the API serves', async () => {
    const pending = submit({ prompt: 'finish me' }, { prefer: 'wait=30' });
    // Act as the worker: pick the job up from BullMQ's wait list and finish it.
    const id = await queuedJobWithPrompt('finish me');
    const png = Buffer.from(png64, 'base64');
    await h.objects.put(`${id}/0.png`, png, 'image/png');
    await h.store.markRunning(id, { total: 2, attempt: 1 });
    await h.store.markSucceeded(id, { images: [{ key: `${id}/0.png`, width: 64, height: 64, seed: 5, content_type: 'image/png', bytes: png.length }] });
    const res = await pending;
    assert.equal(res.json().status, 'succeeded');
    const url = new URL(res.json().result.images[0].url);
    assert.equal(url.origin, 'http://api.test');
    const file = await h.app.inject({ url: url.pathname + url.search });
    assert.equal(file.statusCode, 200);
    assert.equal(file.headers['content-type'], 'image/png');
    assert.deepEqual(file.rawPayload, png);
    const tampered = await h.app.inject({ url: `${url.pathname}?expires=${url.searchParams.get('expires')}&sig=${'0'.repeat(64)}` });
    assert.equal(tampered.statusCode, 403);
    assert.equal(tampered.json().code, 'url_invalid');
    const old = new URL(await h.objects.url(`${id}/0.png`, Date.now() - 2 * 3600 * 1000));
    const expired = await h.app.inject({ url: old.pathname + old.search });
    assert.equal(expired.statusCode, 403);
    assert.equal(expired.json().code, 'url_expired');
  });

  test('GET /v1/models lists the bundled models with capabilities and size step', async () => {
    const res = await h.app.inject({ url: '/v1/models' });
    const models = res.json().data as Array<{ id: string; capabilities: string[]; size_step: number; default: boolean }>;
    const tiny = models.find((m) => m.id === 'tiny-sd15');
    assert.deepEqual(tiny?.capabilities, ['txt2img', 'img2img', 'inpaint']);
    assert.equal(tiny?.size_step, 16);
    assert.equal(tiny?.default, true);
    assert.deepEqual(models.find((m) => m.id === 'tiny-sd15-inpaint')?.capabilities, ['inpaint']);
  });

  test('/healthz and /readyz', async () => {
    assert.equal((await h.app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await h.app.inject({ url: '/readyz' })).statusCode, 200);
  });
});
