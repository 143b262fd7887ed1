// The AUTOMATIC1111 adapter against the running app with a real worker (tiny models on CPU): the
// exact requests of Open WebUI, LibreChat and SillyTavern (fixtures/clients), each read the way
// that client reads the answer; same seed → same image as /v1; img2img and inpaint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { readPngText } from '@sdsvc/images';
import { startAdapterStack, type AdapterStack } from './adapter-stack.ts';

const fixture = async (name: string) => JSON.parse(await readFile(new URL(`./fixtures/clients/${name}.json`, import.meta.url), 'utf8'));
const OPEN_WEBUI = await fixture('open-webui');
const LIBRECHAT = await fixture('librechat');
const SILLYTAVERN = await fixture('sillytavern');

interface Txt2ImgAnswer { images: string[]; parameters: Record<string, unknown>; info: string }

async function pixels(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

let s: AdapterStack;
before(async () => { s = await startAdapterStack(); });
after(async () => { await s?.close(); });

async function call(req: { method: string; path: string; headers?: Record<string, string>; body?: unknown }): Promise<Response> {
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  return await fetch(`${s.baseUrl}${req.path}`, { method: req.method, headers, body: req.body === undefined ? undefined : JSON.stringify(req.body) });
}

describe('Open WebUI (A1111 engine)', () => {
  test('options → sd-models → set model (the whole options object posted back) → txt2img; reads images[] and info', async () => {
    const r = OPEN_WEBUI.a1111;
    const options = await (await call(r.get_options)).json() as Record<string, unknown>;
    assert.equal(options.sd_model_checkpoint, 'tiny-sd15');
    const models = await (await call(r.get_models)).json() as Array<{ title: string; model_name: string }>;
    // Open WebUI lists {id: title, name: model_name}.
    const listed = models.map((m) => ({ id: m.title, name: m.model_name }));
    assert.ok(listed.some((m) => m.id === 'tiny-sd2-v' && m.name === 'tiny-sd2-v'));
    const set = await call({ ...r.set_options, body: { ...options, sd_model_checkpoint: 'tiny-sd2-v' } });
    assert.equal(set.status, 200);
    assert.equal(((await (await call(r.get_options)).json()) as { sd_model_checkpoint: string }).sd_model_checkpoint, 'tiny-sd2-v');

    const res = await call(r.txt2img);
    assert.equal(res.status, 200, await res.clone().text());
    const answer = await res.json() as Txt2ImgAnswer;
    assert.equal(answer.images.length, 2, 'batch_size = n');
    for (const image of answer.images) {
      // get_image_data: no comma → base64-decode the whole string as image/png.
      assert.ok(!image.includes(','));
      const png = Buffer.from(image, 'base64');
      assert.equal((await pixels(png)).width, 64);
      assert.match(readPngText(png).parameters, /Model: tiny-sd2-v/, 'the model chosen through options');
    }
    assert.equal(typeof answer.info, 'string');
    assert.equal(JSON.parse(answer.info).sd_model_name, 'tiny-sd2-v');
    await call({ ...r.set_options, body: { sd_model_checkpoint: 'tiny-sd15' } });
  });
});

describe('LibreChat', () => {
  test('txt2img: images[0], JSON.parse(info).infotexts[0] is the PNG parameters text', async () => {
    // LibreChat's payload as it is, but 64×64: its fixed 1024×1024 would make the tiny random
    // model's VAE attention allocate gigabytes on CPU (and is refused by its max_output_pixels).
    const res = await call({ ...LIBRECHAT.txt2img, body: { ...LIBRECHAT.txt2img.body, width: 64, height: 64 } });
    assert.equal(res.status, 200, await res.clone().text());
    const data = await res.json() as Txt2ImgAnswer;
    const image = data.images[0];
    const info = JSON.parse(data.info) as { height: number; width: number; seed: number; infotexts: string[] };
    assert.deepEqual([info.width, info.height], [64, 64]);
    assert.ok(Number.isInteger(info.seed) && info.seed >= 0, 'seed -1 → the random seed used');
    const buffer = Buffer.from(image.split(',', 1)[0], 'base64');
    assert.equal(info.infotexts[0], readPngText(buffer).parameters, 'infotexts[0] = the PNG parameters chunk');
    const generationInfo = info.infotexts[0].split('\n').pop()!;
    assert.match(generationInfo, new RegExp(`^Steps: 22, Sampler: DPM\\+\\+ 2M, Schedule type: Karras, CFG scale: 4\\.5, Seed: ${info.seed}, Size: 64x64`));
    assert.ok(info.infotexts[0].includes('\nNegative prompt: semi-realistic'));
  });
});

describe('SillyTavern', () => {
  test('ping, samplers, schedulers, models, get/set model, progress, txt2img with override_settings; reads images[0]', async () => {
    const r = SILLYTAVERN;
    assert.equal((await call(r.get_options)).ok, true, '/ping: GET options ok');
    const samplers = (await (await call(r.get_samplers)).json() as Array<{ name: string }>).map((x) => x.name);
    assert.ok(samplers.includes('DDIM') && samplers.includes('Euler a') && samplers.includes('DPM++ 2M'));
    const schedulers = (await (await call(r.get_schedulers)).json() as Array<{ name: string }>).map((x) => x.name);
    assert.deepEqual(schedulers, ['automatic', 'karras']);
    const models = (await (await call(r.get_models)).json() as Array<{ title: string }>).map((x) => ({ value: x.title, text: x.title }));
    assert.ok(models.some((m) => m.value === 'tiny-sd15'));
    // /get-model reads data['sd_model_checkpoint']
    assert.equal(((await (await call(r.get_options)).json()) as Record<string, string>)['sd_model_checkpoint'], 'tiny-sd15');
    // /set-model: POST options, then poll progress until progress == 0 and job_count === 0.
    assert.equal((await call({ ...r.set_options, body: { sd_model_checkpoint: 'tiny-sd2-v' } })).ok, true);
    const progress = await (await call(r.get_progress)).json() as { progress: number; state: { job_count: number } };
    assert.ok(progress.progress == 0.0 && progress.state['job_count'] === 0);

    const res = await call(r.txt2img);
    assert.equal(res.status, 200, await res.clone().text());
    const data = await res.json() as Txt2ImgAnswer;
    const png = Buffer.from(data.images[0], 'base64');
    const text = readPngText(png).parameters;
    assert.match(text, /Sampler: DDIM, CFG scale: 7, Seed: 1234, Size: 64x64, Model: tiny-sd2-v/, 'scheduler "normal" falls back to Automatic');
    assert.equal(data.parameters.sampler_name, 'DDIM');
    await call({ ...r.set_options, body: { sd_model_checkpoint: 'tiny-sd15' } });
  });
});

describe('txt2img / img2img', () => {
  test('same seed, same image: A1111 txt2img and /v1 with the mapped scheduler', async () => {
    const a = await (await call({ method: 'POST', path: '/sdapi/v1/txt2img', body: {
      prompt: 'a quiet harbor', negative_prompt: 'rain', seed: 77, steps: 3, cfg_scale: 6, width: 64, height: 48, sampler_name: 'Euler a',
    } })).json() as Txt2ImgAnswer;
    const job = await (await call({ method: 'POST', path: '/v1/jobs', headers: { prefer: 'wait=60' }, body: {
      prompt: 'a quiet harbor', negative_prompt: 'rain', seed: 77, steps: 3, guidance_scale: 6, width: 64, height: 48, scheduler: 'euler_a',
    } })).json() as { status: string; result: { images: Array<{ key: string }> } };
    assert.equal(job.status, 'succeeded');
    const v1 = await s.h.objects.get(job.result.images[0].key);
    assert.deepEqual(await pixels(Buffer.from(a.images[0], 'base64')), await pixels(v1));
  });

  test('batch_size × n_iter: all images, consecutive seeds; the info JSON has A1111\'s fields', async () => {
    const res = await call({ method: 'POST', path: '/sdapi/v1/txt2img', body: {
      prompt: 'tiles', seed: 500, steps: 2, width: 32, height: 32, batch_size: 2, n_iter: 2, sampler_name: 'DPM++ 2M Karras', unknown_key: { a: 1 },
    } });
    assert.equal(res.status, 200, await res.clone().text());
    const data = await res.json() as Txt2ImgAnswer;
    assert.equal(data.images.length, 4);
    const info = JSON.parse(data.info);
    for (const key of ['prompt', 'all_prompts', 'negative_prompt', 'all_negative_prompts', 'seed', 'all_seeds', 'subseed', 'all_subseeds',
      'width', 'height', 'sampler_name', 'cfg_scale', 'steps', 'batch_size', 'sd_model_name', 'sd_model_hash', 'denoising_strength',
      'index_of_first_image', 'job_timestamp', 'infotexts']) assert.ok(key in info, key);
    assert.deepEqual(info.all_seeds, [500, 501, 502, 503]);
    assert.equal(info.sampler_name, 'DPM++ 2M');
    assert.match(info.job_timestamp, /^\d{14}$/);
    assert.equal(info.infotexts.length, 4);
    info.infotexts.forEach((t: string, i: number) => assert.equal(t, readPngText(Buffer.from(data.images[i], 'base64')).parameters));
    assert.match(info.infotexts[3], /Seed: 503/);
    assert.equal(data.parameters.seed, 500);
    assert.ok(!('unknown_key' in data.parameters));
  });

  test('override_settings.sd_model_checkpoint picks the model for one request; send_images false sends none', async () => {
    const res = await call({ method: 'POST', path: '/sdapi/v1/txt2img', body: {
      prompt: 'x', steps: 1, width: 32, height: 32, seed: 1, send_images: false, override_settings: { sd_model_checkpoint: 'tiny-sd2-v' },
    } });
    const data = await res.json() as Txt2ImgAnswer;
    assert.deepEqual(data.images, []);
    assert.equal(JSON.parse(data.info).sd_model_name, 'tiny-sd2-v');
  });

  test('img2img: init_images as a data URL, resize_mode 1 (crop), denoising_strength', async () => {
    const init = await sharp({ create: { width: 64, height: 32, channels: 3, background: { r: 10, g: 200, b: 90 } } }).png().toBuffer();
    const res = await call({ method: 'POST', path: '/sdapi/v1/img2img', body: {
      prompt: 'a green field', init_images: [`data:image/png;base64,${init.toString('base64')}`], width: 32, height: 32, steps: 3, seed: 4,
      denoising_strength: 0.5, resize_mode: 1, sampler_name: 'Euler',
    } });
    assert.equal(res.status, 200, await res.clone().text());
    const data = await res.json() as Txt2ImgAnswer;
    const text = readPngText(Buffer.from(data.images[0], 'base64')).parameters;
    assert.match(text, /Denoising strength: 0\.5/);
    assert.match(text, /Resize mode: crop/);
    assert.equal(JSON.parse(data.info).denoising_strength, 0.5);
    assert.equal(data.parameters.init_images, null);
  });

  test('img2img with a mask → inpaint: white repainted, black kept; inpainting_mask_invert swaps them', async () => {
    const W = 64;
    const init = await sharp({ create: { width: W, height: W, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer();
    const half = Buffer.alloc(W * W);
    for (let y = 0; y < W; y++) for (let x = 0; x < 32; x++) half[y * W + x] = 255; // left half white = repaint
    const mask = await sharp(half, { raw: { width: W, height: W, channels: 1 } }).png().toBuffer();
    const at = (img: { data: Buffer }, x: number, y: number) => [...img.data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)].join();
    const orig = await pixels(init);
    for (const invert of [false, true]) {
      const res = await call({ method: 'POST', path: '/sdapi/v1/img2img', body: {
        prompt: 'blue', init_images: [init.toString('base64')], mask: mask.toString('base64'), mask_blur: 2, inpainting_mask_invert: invert ? 1 : 0,
        inpainting_fill: 1, width: W, height: W, steps: 3, seed: 8, denoising_strength: 1,
      } });
      assert.equal(res.status, 200, await res.clone().text());
      const out = await pixels(Buffer.from(((await res.json()) as Txt2ImgAnswer).images[0], 'base64'));
      const [keptX, paintedX] = invert ? [5, 58] : [58, 5];
      assert.equal(at(out, keptX, 30), at(orig, keptX, 30), `kept (invert ${invert})`);
      assert.notEqual(at(out, paintedX, 30), at(orig, paintedX, 30), `repainted (invert ${invert})`);
    }
  });
});
