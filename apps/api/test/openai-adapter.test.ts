// The OpenAI Images adapter through the official `openai` SDK against the running app with a real
// worker (tiny models on CPU), plus the exact requests of Open WebUI's OpenAI engine. What the
// SDK parses is what an OpenAI client sees.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { readPngText } from '@sdsvc/images';
import { onServer, startAdapterStack, type AdapterStack } from './adapter-stack.ts';

const OPEN_WEBUI = JSON.parse(await readFile(new URL('./fixtures/clients/open-webui.json', import.meta.url), 'utf8'));

async function pixels(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
const b64png = (b64: string | undefined): Buffer => {
  assert.ok(b64, 'b64_json present');
  const buf = Buffer.from(b64, 'base64');
  assert.equal(buf.subarray(1, 4).toString(), 'PNG');
  return buf;
};

let s: AdapterStack;
let client: OpenAI;
before(async () => {
  s = await startAdapterStack({ OPENAI_MODEL_MAP: 'gpt-image-1=tiny-sd2-v' });
  client = new OpenAI({ apiKey: 'unused', baseURL: `${s.baseUrl}/v1`, maxRetries: 0 });
});
after(async () => { await s?.close(); });

describe('OpenAI SDK', () => {
  test('images.generate b64_json, n: 2: two PNGs with the SDK ImagesResponse fields', async () => {
    const res = await client.images.generate({ prompt: 'a red fox', n: 2, size: '64x64', quality: 'low', seed: 11 } as unknown as OpenAI.ImageGenerateParamsNonStreaming);
    assert.equal(typeof res.created, 'number');
    assert.equal(res.data?.length, 2);
    assert.equal(res.output_format, 'png');
    assert.equal(res.size, '64x64');
    assert.equal(res.quality, 'low');
    assert.equal(res.background, 'opaque');
    assert.deepEqual(res.usage, { input_tokens: 0, input_tokens_details: { image_tokens: 0, text_tokens: 0 }, output_tokens: 0, total_tokens: 0 });
    const [a, b] = await Promise.all(res.data!.map((d) => pixels(b64png(d.b64_json))));
    assert.deepEqual([a.width, a.height], [64, 64]);
    assert.notDeepEqual(a.data, b.data, 'image 2 uses seed + 1');
    assert.equal(res.data![0].revised_prompt, 'a red fox');
    const text = readPngText(b64png(res.data![1].b64_json)).parameters;
    assert.match(text, /Steps: 10,/, 'quality low → 10 steps');
    assert.match(text, /Seed: 12,/);
    assert.match(text, /Model: tiny-sd15/, 'no model → DEFAULT_MODEL');
  });

  test('response_format url: a signed URL of the stored image, the same image as b64_json for the same seed', async () => {
    const params = { prompt: 'a blue bird', size: '64x64', seed: 5, steps: 3 } as unknown as OpenAI.ImageGenerateParamsNonStreaming;
    const asUrl = await client.images.generate({ ...params, response_format: 'url' });
    const url = asUrl.data![0].url!;
    assert.match(url, /^http:\/\/api\.test\/v1\/files\/.+\.png\?/);
    assert.equal(asUrl.data![0].b64_json, undefined);
    const fetched = await fetch(onServer(s, url));
    assert.equal(fetched.status, 200);
    const asB64 = await client.images.generate(params);
    assert.deepEqual(await pixels(Buffer.from(await fetched.arrayBuffer())), await pixels(b64png(asB64.data![0].b64_json)));
  });

  test('n above one job\'s 8 images: split into jobs with consecutive seeds (image 9 = seed + 8)', async () => {
    const ten = await client.images.generate({ prompt: 'stones', n: 10, size: '32x32', seed: 100, steps: 2 } as unknown as OpenAI.ImageGenerateParamsNonStreaming);
    assert.equal(ten.data!.length, 10);
    const one = await client.images.generate({ prompt: 'stones', n: 1, size: '32x32', seed: 108, steps: 2 } as unknown as OpenAI.ImageGenerateParamsNonStreaming);
    assert.deepEqual(await pixels(b64png(ten.data![8].b64_json)), await pixels(b64png(one.data![0].b64_json)));
  });

  test('model names: OPENAI_MODEL_MAP maps gpt-image-1, dall-e-3 goes to DEFAULT_MODEL, a model id is used as is', async () => {
    const cases = [['gpt-image-1', 'tiny-sd2-v'], ['dall-e-3', 'tiny-sd15'], ['tiny-sd2-v', 'tiny-sd2-v']] as const;
    for (const [model, id] of cases) {
      const res = await client.images.generate({ model, prompt: 'x', size: 'auto', steps: 1 } as unknown as OpenAI.ImageGenerateParamsNonStreaming);
      assert.match(readPngText(b64png(res.data![0].b64_json)).parameters, new RegExp(`Model: ${id}`), model);
    }
  });

  test('output_format webp and output_compression, extensions (negative_prompt, guidance_scale, scheduler), user → metadata', async () => {
    const res = await client.images.generate({
      prompt: 'a lake', size: '32x32', output_format: 'webp', output_compression: 50, user: 'user-42',
      negative_prompt: 'fog', guidance_scale: 3, scheduler: 'euler_a', steps: 2,
    } as unknown as OpenAI.ImageGenerateParamsNonStreaming);
    assert.equal(res.output_format, 'webp');
    const img = Buffer.from(res.data![0].b64_json!, 'base64');
    assert.equal(img.subarray(8, 12).toString(), 'WEBP');
  });

  test('images.edit with a mask: transparent pixels are repainted, opaque ones kept', async () => {
    const W = 64;
    const original = await sharp({ create: { width: W, height: W, channels: 3, background: { r: 20, g: 160, b: 60 } } }).png().toBuffer();
    // OpenAI's convention: a copy of the image whose left half is transparent = edit there.
    const alpha = Buffer.alloc(W * W);
    for (let y = 0; y < W; y++) for (let x = 32; x < W; x++) alpha[y * W + x] = 255;
    const mask = await sharp(await sharp({ create: { width: W, height: W, channels: 3, background: { r: 20, g: 160, b: 60 } } }).raw().toBuffer(), { raw: { width: W, height: W, channels: 3 } })
      .joinChannel(alpha, { raw: { width: W, height: W, channels: 1 } }).png().toBuffer();
    const res = await client.images.edit({
      image: await toFile(original, 'image.png', { type: 'image/png' }),
      mask: await toFile(mask, 'mask.png', { type: 'image/png' }),
      prompt: 'a red square', size: '64x64',
      seed: 3, steps: 3,
    } as unknown as OpenAI.ImageEditParamsNonStreaming);
    assert.equal(res.data!.length, 1);
    const out = await pixels(b64png(res.data![0].b64_json));
    const orig = await pixels(original);
    const at = (img: { data: Buffer }, x: number, y: number) => [...img.data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
    for (const [x, y] of [[50, 10], [63, 63], [48, 32]]) assert.deepEqual(at(out, x, y), at(orig, x, y), `kept at ${x},${y}`);
    let changed = 0;
    for (let y = 0; y < W; y++) for (let x = 0; x < 20; x++) if (at(out, x, y).join() !== at(orig, x, y).join()) changed++;
    assert.ok(changed > 20 * W * 0.9, `the transparent half is repainted (${changed} px changed)`);
    assert.match(readPngText(b64png(res.data![0].b64_json)).parameters, /Mask blur: 4/, 'an inpaint job');
  });

  test('images.edit without a mask → img2img; a mask without alpha is a 400 on param mask', async () => {
    const original = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 100, b: 0 } } }).png().toBuffer();
    const res = await client.images.edit({ image: await toFile(original, 'a.png', { type: 'image/png' }), prompt: 'p', steps: 2 } as unknown as OpenAI.ImageEditParamsNonStreaming);
    assert.match(readPngText(b64png(res.data![0].b64_json)).parameters, /Denoising strength: 0\.75/);
    await assert.rejects(client.images.edit({
      image: await toFile(original, 'a.png', { type: 'image/png' }), mask: await toFile(original, 'm.png', { type: 'image/png' }), prompt: 'p',
    }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal((err.error as { param: string }).param, 'mask');
      assert.equal(err.code, 'image_invalid');
      return true;
    });
  });

  test('images.generate stream: true, partial_images: 2: the SDK stream iterator yields two partial images (live previews), then one completed event per image', async () => {
    // 4 steps: a preview every ⌊4 / 3⌋ = 1 step, the first two sent as partial images.
    const stream = await client.images.generate({ prompt: 'a castle', n: 2, size: '32x32', stream: true, partial_images: 2, steps: 4, seed: 9 } as unknown as OpenAI.ImageGenerateParamsStreaming);
    const events: OpenAI.ImageGenStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    assert.deepEqual(events.map((e) => e.type), ['image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed', 'image_generation.completed']);
    const partials = events.filter((e): e is OpenAI.ImageGenPartialImageEvent => e.type === 'image_generation.partial_image');
    assert.deepEqual(partials.map((e) => e.partial_image_index), [0, 1]);
    for (const e of partials) {
      // The linear latent preview: 1/8 of the image's size, WebP.
      assert.equal(e.output_format, 'webp');
      assert.equal(e.size, '4x4');
      const meta = await sharp(Buffer.from(e.b64_json, 'base64')).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 4, 4]);
    }
    for (const e of events.filter((x) => x.type === 'image_generation.completed')) {
      assert.equal(e.output_format, 'png');
      assert.equal(e.size, '32x32');
      assert.equal(typeof e.created_at, 'number');
      b64png(e.b64_json);
    }
    // Previews never change the images.
    const plain = await client.images.generate({ prompt: 'a castle', n: 2, size: '32x32', steps: 4, seed: 9 } as unknown as OpenAI.ImageGenerateParamsNonStreaming);
    assert.deepEqual(await pixels(b64png(events[3]!.b64_json)), await pixels(b64png(plain.data![1].b64_json)));
  });

  test('errors: OpenAI\'s shape with param and code (size the model cannot take, transparent background, unknown model)', async () => {
    const cases: Array<[Record<string, unknown>, string, string | null]> = [
      [{ prompt: 'x', size: '120x120' }, 'invalid_size', 'size'],
      [{ prompt: 'x', size: '100x100' }, 'validation_failed', 'size'],
      [{ prompt: 'x', background: 'transparent' }, 'validation_failed', 'background'],
      [{ prompt: 'x', model: 'no-such-model' }, 'unknown_model', 'model'],
      [{ prompt: 'x', n: 11 }, 'validation_failed', 'n'],
    ];
    for (const [body, code, param] of cases) {
      const res = await fetch(`${s.baseUrl}/v1/images/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 400, JSON.stringify(body));
      const json = await res.json() as { error: { message: string; type: string; param: string | null; code: string } };
      assert.deepEqual(Object.keys(json.error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(json.error.type, 'invalid_request_error');
      assert.equal(json.error.code, code, JSON.stringify(json));
      assert.equal(json.error.param, param);
    }
    await assert.rejects(client.images.generate({ prompt: 'x', size: '100x100' as '1024x1024' }), OpenAI.BadRequestError);
  });

  test('GET /v1/models is an OpenAI model list (models.list) and keeps our fields', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) {
      assert.equal(m.object, 'model');
      assert.equal(typeof m.created, 'number');
      assert.ok(m.created > 1_600_000_000);
      assert.equal(m.owned_by, 'sdsvc');
      assert.ok(Array.isArray((m as unknown as { capabilities: string[] }).capabilities));
      ids.push(m.id);
    }
    assert.ok(ids.includes('tiny-sd15'));
  });
});

describe('Open WebUI, OpenAI engine (exact requests)', () => {
  test('generations: reads data[i].b64_json (base64 PNG, no data: prefix)', async () => {
    const req = OPEN_WEBUI.openai.generations;
    const res = await fetch(`${s.baseUrl}${req.path}`, { method: req.method, headers: { authorization: 'Bearer x', 'content-type': 'application/json' }, body: JSON.stringify(req.body) });
    assert.equal(res.status, 200);
    const json = await res.json() as { data: Array<{ url?: string; b64_json?: string }> };
    for (const image of json.data) {
      assert.equal(image.url, undefined);
      assert.ok(!image.b64_json!.includes(','), 'Open WebUI base64-decodes the whole string when there is no comma');
      assert.deepEqual([(await pixels(b64png(image.b64_json))).width], [64]);
    }
  });

  test('edits: multipart with one `image` part, as aiohttp FormData sends it', async () => {
    const req = OPEN_WEBUI.openai.edits;
    const form = new FormData();
    for (const [k, v] of Object.entries(req.fields as Record<string, string>)) form.append(k, v);
    const png = await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 9, g: 9, b: 200 } } }).png().toBuffer();
    form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'c0ffee.png');
    const res = await fetch(`${s.baseUrl}${req.path}`, { method: req.method, headers: { authorization: 'Bearer x' }, body: form });
    assert.equal(res.status, 200, await res.clone().text());
    const json = await res.json() as { data: Array<{ b64_json: string }> };
    assert.equal(json.data.length, 1);
    assert.equal((await pixels(b64png(json.data[0].b64_json))).width, 64);
  });
});
