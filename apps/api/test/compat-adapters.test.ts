// The compatibility adapters without a worker (jobs stay queued): both auth schemes, both error
// shapes, A1111 progress / interrupt / skip, options per caller, A1111_API=false, and a client
// that disconnects cancels its jobs. The A1111 sampler table and request translation as units.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { JobRecord } from '@sdsvc/jobs';
import { A1111Img2ImgRequest, A1111Txt2ImgRequest } from '@sdsvc/contracts';
import { waitFor } from '../../../test/support/wait-for.ts';
import { A1111_SAMPLERS, resolveSampler } from '../src/adapters/a1111/samplers.ts';
import { toJobBodies as a1111Bodies } from '../src/adapters/a1111/translate.ts';
import { QUALITY_STEPS, resolveModel } from '../src/adapters/openai/translate.ts';
import { listen, startHarness, type Harness } from './harness.ts';

const SILLYTAVERN = JSON.parse(await readFile(new URL('./fixtures/clients/sillytavern.json', import.meta.url), 'utf8'));
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** Every job record in the harness's Redis (prefix t). */
async function allJobs(h: Harness): Promise<JobRecord[]> {
  const keys = (await h.redis.keys('t:job:*')).filter((k) => /^t:job:[0-9a-f-]{36}$/.test(k));
  return (await Promise.all(keys.map((k) => h.store.get(k.slice('t:job:'.length))))).filter((r): r is JobRecord => r !== null);
}

describe('A1111 sampler table', () => {
  test('every A1111 name, alias, combined "… Karras" form and schedule type maps to an engine scheduler', () => {
    const cases: Array<[string | undefined, string | undefined, string]> = [
      ['Euler a', undefined, 'euler_a'], ['k_euler_a', undefined, 'euler_a'], ['euler A', undefined, 'euler_a'],
      ['Euler', 'Automatic', 'euler'], ['Euler', 'Karras', 'euler_karras'], ['Euler Karras', undefined, 'euler_karras'],
      ['LMS', undefined, 'lms'], ['LMS Karras', undefined, 'lms_karras'], ['Heun', undefined, 'heun'], ['DPM2', undefined, 'kdpm2'],
      ['DPM++ 2M', undefined, 'dpmpp_2m_karras'], ['DPM++ 2M', 'karras', 'dpmpp_2m_karras'], ['DPM++ 2M Karras', undefined, 'dpmpp_2m_karras'],
      ['DPM++ 2M SDE', undefined, 'dpmpp_2m_sde'], ['DPM++ 2M SDE Karras', undefined, 'dpmpp_2m_sde_karras'], ['DPM++ 2S a', undefined, 'dpm_single'],
      ['DDIM', undefined, 'ddim'], ['PLMS', undefined, 'pndm'], ['UniPC', undefined, 'unipc'], ['LCM', undefined, 'lcm'],
      ['DDPM', undefined, 'ddpm'], ['DEIS', undefined, 'deis'],
      [undefined, undefined, 'dpmpp_2m_karras'], // A1111's default sampler
      ['Euler a', 'Karras', 'euler_a'], ['DDIM', 'normal', 'ddim'], ['Euler Exponential', undefined, 'euler'], // schedules we lack → Automatic
    ];
    for (const [name, schedule, ours] of cases) assert.equal(resolveSampler(name, schedule).scheduler, ours, `${name} / ${schedule}`);
    const engine = new Set(['ddim', 'pndm', 'ddpm', 'euler', 'euler_karras', 'euler_a', 'lms', 'lms_karras', 'heun', 'kdpm2', 'dpmpp_2m', 'dpmpp_2m_karras',
      'dpmpp_2m_sde', 'dpmpp_2m_sde_karras', 'dpm_single', 'unipc', 'deis', 'lcm']);
    for (const s of A1111_SAMPLERS) for (const n of [s.automatic, s.karras].filter(Boolean)) assert.ok(engine.has(n!), n);
  });

  test('a sampler we lack is a 400 listing the ones we have', () => {
    assert.throws(() => resolveSampler('DPM++ SDE', undefined), (err: Error & { status?: number; code?: string }) => {
      assert.equal(err.status, 400);
      assert.equal(err.code, 'unknown_scheduler');
      assert.match(err.message, /Sampler not found: "DPM\+\+ SDE"\. Available samplers: DPM\+\+ 2M, .*Euler a/);
      return true;
    });
  });

  test('translation: legacy sampler_index, seed −1, batch_size × n_iter, inpaint fields, resize modes', () => {
    const t = a1111Bodies(A1111Txt2ImgRequest.parse({ prompt: 'p', sampler_index: 'Euler a', seed: -1, batch_size: 3, n_iter: 2 }), undefined);
    assert.equal(t.bodies.length, 2);
    assert.equal(t.bodies[0].scheduler, 'euler_a');
    assert.equal(t.bodies[0].num_images, 3);
    assert.equal(t.bodies[1].seed, (t.bodies[0].seed as number) + 3);
    assert.ok(t.seed >= 0 && t.seed < 2 ** 32);
    assert.deepEqual([t.bodies[0].steps, t.bodies[0].guidance_scale, t.bodies[0].width], [50, 7, 512], 'A1111 defaults');
    const i = a1111Bodies(A1111Img2ImgRequest.parse({
      prompt: 'p', init_images: ['AAAA'], mask: 'BBBB', mask_blur: 9, inpainting_mask_invert: 1, inpaint_full_res: true,
      inpaint_full_res_padding: 16, resize_mode: 2, denoising_strength: 0.4, seed: 5,
    }), 'tiny-sd15').bodies[0];
    assert.deepEqual(
      [i.type, i.init_image, i.mask_image, i.mask_blur, i.mask_invert, i.inpaint_full_res, i.inpaint_full_res_padding, i.resize_mode, i.strength, i.model],
      ['inpaint', 'AAAA', 'BBBB', 9, true, true, 16, 'fill', 0.4, 'tiny-sd15'],
    );
  });

  test('OpenAI: quality → steps table and model names', () => {
    assert.deepEqual(QUALITY_STEPS, { low: 10, medium: 20, high: 40, auto: 20, standard: 20, hd: 40 });
    const map = { 'dall-e-3': 'sd15' };
    assert.equal(resolveModel('dall-e-3', map), 'sd15');
    assert.equal(resolveModel('dall-e-2', map), undefined);
    assert.equal(resolveModel('gpt-image-1', map), undefined);
    assert.equal(resolveModel('tiny-sd15', map), 'tiny-sd15');
    assert.equal(resolveModel(undefined, map), undefined);
  });
});

describe('auth and error shapes (API_KEYS + A1111_API_AUTH)', () => {
  let h: Harness;
  before(async () => { h = await startHarness({ API_KEYS: 'key-one,key-two', A1111_API_AUTH: 'alice:wonder,bob:builder', OPENAI_WAIT_TIMEOUT_S: '1' }); });
  after(async () => { await h?.close(); });

  test('OpenAI routes: Bearer keys; 401 in OpenAI\'s shape', async () => {
    const bad = await h.app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x' }, headers: { authorization: 'Bearer nope' } });
    assert.equal(bad.statusCode, 401);
    assert.deepEqual(Object.keys(bad.json()), ['error']);
    assert.equal(bad.json().error.code, 'invalid_api_key');
    assert.equal(bad.json().error.type, 'invalid_request_error');
    const ok = await h.app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x', background: 'transparent' }, headers: { authorization: 'Bearer key-one' } });
    assert.equal(ok.statusCode, 400, 'authenticated: the body is checked');
    assert.equal(ok.json().error.param, 'background');
  });

  test('jobs belong to the caller (the same owner as its /v1 jobs); OPENAI_WAIT_TIMEOUT_S → 504 generation_timeout, jobs canceled', async () => {
    const v1 = await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'x' }, headers: { authorization: 'Bearer key-one' } });
    const owner = (await h.store.get(v1.json().id))!.owner;
    assert.ok(owner, 'a keyed /v1 job has an owner');
    const known = new Set((await allJobs(h)).map((j) => j.id));
    const res = await h.app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'slow', size: '32x32' }, headers: { authorization: 'Bearer key-one' } });
    assert.equal(res.statusCode, 504);
    assert.equal(res.json().error.code, 'generation_timeout');
    assert.equal(res.json().error.type, 'server_error');
    const created = (await allJobs(h)).filter((j) => !known.has(j.id));
    assert.equal(created.length, 1);
    assert.equal(created[0].owner, owner);
    assert.equal(created[0].status, 'canceled');
  });

  test('A1111 routes: no credentials → 401 {detail: "Not authenticated"} with WWW-Authenticate: Basic; wrong → "Incorrect username or password"', async () => {
    const none = await h.app.inject({ url: '/sdapi/v1/sd-models' });
    assert.equal(none.statusCode, 401);
    assert.deepEqual(none.json(), { detail: 'Not authenticated' });
    assert.equal(none.headers['www-authenticate'], 'Basic');
    const wrong = await h.app.inject({ url: '/sdapi/v1/sd-models', headers: { authorization: basic('alice', 'nope') } });
    assert.equal(wrong.statusCode, 401);
    assert.deepEqual(wrong.json(), { detail: 'Incorrect username or password' });
  });

  test('A1111 routes accept A1111_API_AUTH (Basic) and the API keys (Bearer); options are kept per caller', async () => {
    const alice = { authorization: basic('alice', 'wonder') }, bob = { authorization: basic('bob', 'builder') }, key = { authorization: 'Bearer key-two' };
    for (const headers of [alice, bob, key]) assert.equal((await h.app.inject({ url: '/sdapi/v1/sd-models', headers })).statusCode, 200);
    const set = await h.app.inject({ method: 'POST', url: '/sdapi/v1/options', headers: alice, payload: { sd_model_checkpoint: 'tiny-sd2-v', CLIP_stop_at_last_layers: 2 } });
    assert.equal(set.statusCode, 200);
    assert.equal(set.body, 'null');
    const checkpoint = async (headers: Record<string, string>) => (await h.app.inject({ url: '/sdapi/v1/options', headers })).json().sd_model_checkpoint;
    assert.equal(await checkpoint(alice), 'tiny-sd2-v');
    assert.equal(await checkpoint(bob), 'tiny-sd15');
    assert.equal(await checkpoint(key), 'tiny-sd15');
  });

  test('A1111 error shapes: unknown sampler 400 {error, detail, body, errors}; bad field 422 {detail: [{loc, msg, type}]}; unknown checkpoint', async () => {
    const headers = { authorization: basic('bob', 'builder') };
    const sampler = await h.app.inject({ method: 'POST', url: '/sdapi/v1/txt2img', headers, payload: { prompt: 'x', sampler_name: 'Restart' } });
    assert.equal(sampler.statusCode, 400);
    assert.equal(sampler.json().error, 'HTTPException');
    assert.match(sampler.json().detail, /^Sampler not found: "Restart"\. Available samplers: /);
    assert.equal(sampler.json().body, '');
    const bad = await h.app.inject({ method: 'POST', url: '/sdapi/v1/txt2img', headers, payload: { prompt: 'x', steps: 'many', width: 12.5 } });
    assert.equal(bad.statusCode, 422);
    const locs = bad.json().detail.map((d: { loc: string[] }) => d.loc.join('.'));
    assert.deepEqual(locs.sort(), ['body.steps', 'body.width']);
    assert.equal(typeof bad.json().detail[0].msg, 'string');
    const size = await h.app.inject({ method: 'POST', url: '/sdapi/v1/txt2img', headers, payload: { prompt: 'x', width: 72, height: 64 } });
    assert.equal(size.statusCode, 400);
    assert.match(size.json().detail, /width|multiple/);
    const model = await h.app.inject({ method: 'POST', url: '/sdapi/v1/options', headers, payload: { sd_model_checkpoint: 'sdxl-turbo.safetensors' } });
    assert.equal(model.statusCode, 400);
    assert.match(model.json().detail, /model "sdxl-turbo\.safetensors" not found/);
    const override = await h.app.inject({ method: 'POST', url: '/sdapi/v1/txt2img', headers, payload: { prompt: 'x', override_settings: { sd_model_checkpoint: 'nope' } } });
    assert.equal(override.statusCode, 400);
  });
});

describe('A1111_API_AUTH without API_KEYS', () => {
  let h: Harness;
  before(async () => { h = await startHarness({ A1111_API_AUTH: 'carol:secret' }); });
  after(async () => { await h?.close(); });
  test('the A1111 surface needs the Basic credentials; the rest of the API stays open', async () => {
    assert.equal((await h.app.inject({ url: '/sdapi/v1/samplers' })).statusCode, 401);
    assert.equal((await h.app.inject({ url: '/sdapi/v1/samplers', headers: { authorization: 'Bearer anything' } })).statusCode, 401);
    assert.equal((await h.app.inject({ url: '/sdapi/v1/samplers', headers: { authorization: basic('carol', 'secret') } })).statusCode, 200);
    assert.equal((await h.app.inject({ url: '/v1/models' })).statusCode, 200);
  });
});

describe('A1111_API=false', () => {
  let h: Harness;
  before(async () => { h = await startHarness({ A1111_API: 'false' }); });
  after(async () => { await h?.close(); });
  test('the /sdapi surface is off (404)', async () => {
    assert.equal((await h.app.inject({ url: '/sdapi/v1/options' })).statusCode, 404);
    assert.equal((await h.app.inject({ method: 'POST', url: '/sdapi/v1/txt2img', payload: { prompt: 'x' } })).statusCode, 404);
  });
});

describe('queued jobs (no worker): disconnect, interrupt, progress', () => {
  let h: Harness;
  let base: string;
  before(async () => {
    h = await startHarness();
    base = await listen(h);
  });
  after(async () => { await h?.close(); });

  async function disconnectCancels(path: string, body: unknown, owner?: string) {
    const before = new Set((await allJobs(h)).map((j) => j.id));
    const ac = new AbortController();
    const pending = fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ac.signal }).catch((e: Error) => e);
    const job = await waitFor(async () => (await allJobs(h)).find((j) => !before.has(j.id)), { timeoutMs: 10_000, what: `a job from ${path}` });
    assert.equal(job.status, 'queued');
    if (owner !== undefined) assert.equal(job.owner, owner);
    ac.abort();
    assert.equal((await pending as Error).name, 'AbortError');
    await waitFor(async () => (await h.store.get(job.id))?.status === 'canceled', { timeoutMs: 10_000, what: 'the job canceled' });
  }

  test('OpenAI: a client that disconnects cancels its jobs', async () => {
    await disconnectCancels('/v1/images/generations', { prompt: 'never mind', size: '32x32' });
  });

  test('A1111: a client that disconnects cancels its job', async () => {
    await disconnectCancels('/sdapi/v1/txt2img', { prompt: 'never mind', width: 32, height: 32 });
  });

  test('SillyTavern: progress of the running request, then interrupt → the job is canceled and txt2img answers 200 with no images', async () => {
    const body = { ...SILLYTAVERN.txt2img.body, steps: 2 };
    const answer = fetch(`${base}/sdapi/v1/txt2img`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const progress = await waitFor(async () => {
      const p = await (await fetch(`${base}/sdapi/v1/progress?skip_current_image=true`)).json() as { state: { job_count: number; job_no: number }; current_image: unknown };
      return p.state.job_count === 1 ? p : undefined;
    }, { timeoutMs: 10_000, what: 'progress shows the request' });
    assert.equal(progress.state.job_no, 0);
    assert.equal(progress.current_image, null);
    // SillyTavern's interrupt: POST with no body and no content type.
    const interrupt = await fetch(`${base}${SILLYTAVERN.interrupt.path}`, { method: 'POST' });
    assert.equal(interrupt.status, 200);
    assert.deepEqual(await interrupt.json(), {});
    const res = await answer;
    assert.equal(res.status, 200);
    const data = await res.json() as { images: string[]; info: string };
    assert.deepEqual(data.images, []);
    assert.equal(JSON.parse(data.info).seed, 1234);
    const idle = await (await fetch(`${base}/sdapi/v1/progress`)).json() as { progress: number; state: { job_count: number } };
    assert.ok(idle.progress === 0 && idle.state.job_count === 0, 'idle again (SillyTavern\'s set-model wait ends)');
    const canceled = (await allJobs(h)).filter((j) => j.params.seed === 1234);
    assert.deepEqual(canceled.map((j) => j.status), ['canceled']);
  });
});
