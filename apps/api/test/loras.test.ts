// LoRAs at the API: GET /v1/loras, the `loras` job field and <lora:…> prompt tags echoed in params
// with each file's sha256, and every refusal: unknown name, malformed tag or file, a LoRA that does
// not fit the model, too many LoRAs, scale out of range; LoRAs by URL (ALLOW_LORA_URLS).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSafetensors } from '../../../packages/lora/test/support/onnx-builder.ts';
import { startHarness, type Harness } from './harness.ts';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/lora', import.meta.url));
const KOHYA = join(FIXTURES, 'tiny-sd15-lora.kohya.safetensors');
const KOHYA_SHA = createHash('sha256').update(readFileSync(KOHYA)).digest('hex');

let h: Harness;
let loraDir: string;
before(async () => {
  loraDir = await mkdtemp(join(tmpdir(), 'sdsvc-loras-'));
  await mkdir(join(loraDir, 'styles'));
  await copyFile(KOHYA, join(loraDir, 'ink.safetensors'));
  await copyFile(join(FIXTURES, 'tiny-sd15-lora.peft.safetensors'), join(loraDir, 'styles', 'pencil.safetensors'));
  // Targets a module tiny-sd15's UNet does not have.
  await writeFile(join(loraDir, 'alien.safetensors'), buildSafetensors({
    'lora_unet_down_blocks_7_attentions_0_proj.lora_down.weight': { shape: [1, 4], data: [1, 2, 3, 4] },
    'lora_unet_down_blocks_7_attentions_0_proj.lora_up.weight': { shape: [4, 1], data: [1, 2, 3, 4] },
  }));
  await writeFile(join(loraDir, 'broken.safetensors'), Buffer.from('not a safetensors file'));
  h = await startHarness({ LORA_DIR: loraDir, MAX_LORAS_PER_JOB: '2' });
});
after(async () => {
  await h.close();
  await rm(loraDir, { recursive: true, force: true });
});

const post = (body: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a castle', steps: 2, ...body } });

test('GET /v1/loras lists every file with sha256, naming, ranks and components, and finds new files', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/v1/loras' });
  assert.equal(res.statusCode, 200);
  const { data } = res.json() as { data: Array<Record<string, unknown>> };
  assert.deepEqual(data.map((l) => l.id), ['alien', 'broken', 'ink', 'styles/pencil']);
  const ink = data.find((l) => l.id === 'ink')!;
  assert.deepEqual(ink, {
    id: 'ink', bytes: readFileSync(KOHYA).length, sha256: KOHYA_SHA, naming: 'kohya', ranks: [2, 4], components: ['text_encoder', 'unet'], error: null,
  });
  assert.equal(data.find((l) => l.id === 'styles/pencil')!.naming, 'peft');
  assert.match(String(data.find((l) => l.id === 'broken')!.error), /header says .* bytes|shorter than/);
  await copyFile(join(FIXTURES, 'pytorch_lora_weights.safetensors'), join(loraDir, 'new.safetensors'));
  const again = (await h.app.inject({ method: 'GET', url: '/v1/loras' })).json() as { data: Array<{ id: string; naming: string }> };
  assert.equal(again.data.find((l) => l.id === 'new')?.naming, 'diffusers');
});

test('GET /sdapi/v1/loras lists the usable LoRAs in A1111\'s shape (names for <lora:name:scale>, no server paths)', async () => {
  const res = await h.app.inject({ method: 'GET', url: '/sdapi/v1/loras' });
  assert.equal(res.statusCode, 200);
  const list = res.json() as Array<{ name: string; alias: string; path: string; metadata: object }>;
  assert.ok(list.some((l) => l.name === 'ink' && l.alias === 'ink' && l.path === 'ink.safetensors'));
  assert.ok(list.some((l) => l.name === 'styles/pencil'));
  assert.ok(!list.some((l) => l.name === 'broken'), 'unreadable files are left out');
  assert.ok(list.every((l) => !l.path.startsWith('/')), 'no absolute paths');
});

test('the loras field and prompt tags are applied and echoed in params', async () => {
  const res = await post({ prompt: 'a castle <lora:styles/pencil:0.5>, at dawn', loras: [{ name: 'ink' }] });
  assert.equal(res.statusCode, 202, res.body);
  const job = res.json() as { params: { prompt: string; loras: unknown } };
  assert.equal(job.params.prompt, 'a castle, at dawn');
  const pencilSha = createHash('sha256').update(readFileSync(join(loraDir, 'styles', 'pencil.safetensors'))).digest('hex');
  assert.deepEqual(job.params.loras, [{ name: 'ink', sha256: KOHYA_SHA, scale: 1 }, { name: 'styles/pencil', sha256: pencilSha, scale: 0.5 }]);
  const plain = (await post({})).json() as { params: Record<string, unknown> };
  assert.equal('loras' in plain.params, false);
});

test('each refusal is a 400 with its code and the field path', async () => {
  const cases: Array<[Record<string, unknown>, number, string, string, RegExp]> = [
    [{ loras: [{ name: 'nope' }] }, 400, 'unknown_lora', 'loras.0.name', /unknown LoRA "nope"/],
    [{ prompt: 'x <lora:nope>' }, 400, 'unknown_lora', 'prompt', /unknown LoRA "nope"/],
    [{ loras: [{ name: '../ink' }] }, 400, 'validation_failed', 'loras.0.name', /./],
    [{ prompt: 'x <lora:ink:lots>' }, 400, 'prompt_lora_tag_invalid', 'prompt', /not a number/],
    [{ negative_prompt: 'x <lora:ink>' }, 400, 'prompt_lora_tag_invalid', 'negative_prompt', /negative prompt/],
    [{ loras: [{ name: 'alien' }] }, 400, 'lora_incompatible', 'loras.0.name', /lora_unet_down_blocks_7_attentions_0_proj .*tiny-sd15/],
    [{ loras: [{ name: 'broken' }] }, 400, 'lora_invalid', 'loras.0.name', /LoRA "broken"/],
    [{ loras: [{ name: 'ink', scale: 4.5 }] }, 400, 'validation_failed', 'loras.0.scale', /./],
    [{ prompt: 'x <lora:ink> <lora:ink:0.5>', loras: [{ name: 'ink' }] }, 400, 'limit_exceeded', 'loras', /3 LoRAs .* at most 2/],
  ];
  for (const [body, status, code, path, message] of cases) {
    const res = await post(body);
    assert.equal(res.statusCode, status, `${JSON.stringify(body)}: ${res.body}`);
    const p = res.json() as { code: string; detail: string; errors: Array<{ path: string; message: string }> };
    assert.equal(p.code, code, JSON.stringify(body));
    assert.equal(p.errors[0]!.path, path, JSON.stringify(body));
    assert.match(p.errors[0]!.message, message, JSON.stringify(body));
  }
});

test('LoRA URLs: refused unless ALLOW_LORA_URLS; fetched, checked, cached by sha256 and echoed when allowed', async (t) => {
  const body = readFileSync(KOHYA);
  const server = createServer((req, res) => {
    if (req.url === '/ink.safetensors') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${base}/ink.safetensors`;

  const off = await post({ loras: [{ url }] });
  assert.equal(off.statusCode, 400);
  assert.deepEqual([off.json().code, off.json().errors[0].path], ['url_not_allowed', 'loras.0.url']);
  const both = await post({ loras: [{ name: 'ink', url }] });
  assert.deepEqual([both.statusCode, both.json().code, both.json().errors[0].path], [400, 'validation_failed', 'loras.0.name']);

  const cacheDir = await mkdtemp(join(tmpdir(), 'sdsvc-lora-cache-'));
  t.after(() => rm(cacheDir, { recursive: true, force: true }));
  const on = await startHarness({ LORA_DIR: loraDir, ALLOW_LORA_URLS: 'true', ALLOW_PRIVATE_URLS: 'true', LORA_CACHE_DIR: cacheDir, MAX_LORA_BYTES: '100KiB' });
  t.after(() => on.close());
  const send = (loras: unknown[]) => on.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a castle', loras } });
  const ok = await send([{ url, scale: 0.5 }]);
  assert.equal(ok.statusCode, 202, ok.body);
  assert.deepEqual(ok.json().params.loras, [{ name: url, url, sha256: KOHYA_SHA, scale: 0.5 }]);
  assert.deepEqual(readFileSync(join(cacheDir, `${KOHYA_SHA}.safetensors`)), body);
  const missing = await send([{ url: `${base}/nope.safetensors` }]);
  assert.deepEqual([missing.statusCode, missing.json().code, missing.json().errors[0].path], [400, 'lora_fetch_failed', 'loras.0.url']);
  assert.match(missing.json().detail, /LoRA URL answered HTTP 404/);
  const small = await startHarness({ ALLOW_LORA_URLS: 'true', ALLOW_PRIVATE_URLS: 'true', LORA_CACHE_DIR: cacheDir, MAX_LORA_BYTES: '1KiB' });
  t.after(() => small.close());
  const big = await small.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a', loras: [{ url }] } });
  assert.deepEqual([big.statusCode, big.json().code], [400, 'lora_fetch_failed']);
  assert.match(big.json().detail, /larger than MAX_LORA_BYTES/);
});
