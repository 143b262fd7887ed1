// Model folders read from their JSON alone: kinds, capabilities, sizes, and errors naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSize, listModels, readModelInfo, scanModels, ModelFolderError } from '../src/models/model-info.ts';
import { MODELS_DIR } from './support/pipeline-golden.ts';

test('the tiny models', async () => {
  const models = await listModels(MODELS_DIR);
  assert.deepEqual(models.map((m) => m.id), ['tiny-sd15', 'tiny-sd15-inpaint', 'tiny-sd2-v', 'tiny-sdxl']);
  const [sd15, inpaint, sd2, xl] = models;
  assert.equal(sd15!.kind, 'sd1');
  assert.deepEqual(sd15!.capabilities, ['txt2img', 'img2img', 'inpaint']);
  assert.equal(sd15!.nativeSize, 64);
  assert.equal(sd15!.sizeStep, 16);
  assert.equal(sd15!.unetInChannels, 4);
  assert.equal(sd15!.defaultScheduler, 'PNDMScheduler');
  assert.ok(sd15!.schedulers.includes('euler_a'));
  assert.deepEqual(inpaint!.capabilities, ['inpaint']);
  assert.equal(inpaint!.unetInChannels, 9);
  assert.equal(sd2!.kind, 'sd2');
  assert.equal(sd2!.predictionType, 'v_prediction');
  assert.equal(sd2!.textHiddenSize, 16);
  assert.equal(sd15!.sdxl, undefined);
  assert.equal(xl!.kind, 'sdxl');
  assert.equal(xl!.pipelineClass, 'StableDiffusionXLPipeline');
  assert.deepEqual(xl!.capabilities, ['txt2img', 'img2img', 'inpaint']);
  assert.equal(xl!.nativeSize, 64);
  assert.equal(xl!.sizeStep, 16);
  assert.equal(xl!.scalingFactor, 0.13025);
  assert.equal(xl!.textHiddenSize, 24, 'both encoders concatenated: 8 + 16');
  assert.deepEqual(xl!.sdxl, { textEncoders: ['text_encoder', 'text_encoder_2'], forceZerosForEmptyPrompt: true, requiresAestheticsScore: false, pooledSize: 16 });
  assert.equal(checkSize(sd15!, 128, 96), null);
  assert.match(checkSize(sd15!, 100, 64)!, /multiple of 16/);
});

async function copyModel(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-model-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const model = join(dir, 'm');
  await cp(join(MODELS_DIR, 'tiny-sd15'), model, { recursive: true, filter: (src) => !src.endsWith('.onnx') });
  for (const g of ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder']) await writeFile(join(model, g, 'model.onnx'), '');
  return model;
}

test('an incomplete folder names the missing file', async (t) => {
  const model = await copyModel(t);
  await rm(join(model, 'unet', 'model.onnx'));
  await assert.rejects(readModelInfo(model), (err: Error) => err instanceof ModelFolderError && err.message.includes(join(model, 'unet', 'model.onnx')));
  await rm(join(model, 'model_index.json'));
  await assert.rejects(readModelInfo(model), (err: ModelFolderError) => err.file === join(model, 'model_index.json'));
});

test('not Stable Diffusion is refused; an SD 1.x folder calling itself SDXL names what is missing', async (t) => {
  const model = await copyModel(t);
  const indexFile = join(model, 'model_index.json');
  const index = JSON.parse(await readFile(indexFile, 'utf8'));
  await writeFile(indexFile, JSON.stringify({ ...index, _class_name: 'KandinskyPipeline' }));
  await assert.rejects(readModelInfo(model), /not a Stable Diffusion pipeline/);
  await writeFile(indexFile, JSON.stringify({ ...index, _class_name: 'StableDiffusionXLPipeline', text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'] }));
  await assert.rejects(readModelInfo(model), (err: Error) => err instanceof ModelFolderError && err.message.includes(join(model, 'text_encoder_2', 'model.onnx')));
  await writeFile(indexFile, '{ broken');
  await assert.rejects(readModelInfo(model), /model_index\.json: invalid JSON/);
});

test('a model without a VAE encoder only does txt2img', async (t) => {
  const model = await copyModel(t);
  await rm(join(model, 'vae_encoder'), { recursive: true });
  assert.deepEqual((await readModelInfo(model)).capabilities, ['txt2img']);
});

test('one bad folder does not hide the others: usable models plus one problem per unusable folder', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'sdsvc-models-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await symlink(join(MODELS_DIR, 'tiny-sd15'), join(root, 'good'), 'dir');
  await mkdir(join(root, 'broken'));
  await writeFile(join(root, 'broken', 'model_index.json'), JSON.stringify({ _class_name: 'OnnxStableDiffusionPipeline' }));
  await mkdir(join(root, 'xl'));
  await writeFile(join(root, 'xl', 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionXLPipeline', text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'] }));
  await mkdir(join(root, 'bad-json'));
  await writeFile(join(root, 'bad-json', 'model_index.json'), '{ nope');
  await mkdir(join(root, 'notes')); // no model_index.json: not a model folder, ignored
  await writeFile(join(root, 'README.txt'), 'not a folder');

  const scan = await scanModels(root);
  assert.deepEqual(scan.models.map((m) => m.id), ['good']);
  assert.deepEqual(scan.problems.map((p) => [p.id, p.kind]), [['bad-json', 'invalid'], ['broken', 'invalid'], ['xl', 'invalid']]);
  const [badJson, broken, xl] = scan.problems;
  assert.equal(broken!.dir, join(root, 'broken'));
  assert.equal(broken!.file, join(root, 'broken', 'text_encoder', 'model.onnx'));
  assert.match(broken!.message, /^text_encoder\/model\.onnx: missing/);
  assert.match(xl!.message, /^text_encoder_2\/model\.onnx: missing/);
  assert.match(badJson!.message, /^model_index\.json: invalid JSON/);
  for (const p of scan.problems) assert.ok(!p.message.includes(root), `no server path in "${p.message}"`);
  assert.deepEqual((await listModels(root)).map((m) => m.id), ['good']);
});

test('an SDXL refiner (text_encoder null, requires_aesthetics_score) uses text_encoder_2 alone', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-refiner-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const model = join(dir, 'refiner');
  await cp(join(MODELS_DIR, 'tiny-sdxl'), model, { recursive: true, filter: (src) => !src.endsWith('.onnx') });
  for (const g of ['text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder']) await writeFile(join(model, g, 'model.onnx'), '');
  await rm(join(model, 'text_encoder'), { recursive: true });
  await rm(join(model, 'tokenizer'), { recursive: true });
  const indexFile = join(model, 'model_index.json');
  const index = JSON.parse(await readFile(indexFile, 'utf8'));
  await writeFile(indexFile, JSON.stringify({ ...index, _class_name: 'StableDiffusionXLImg2ImgPipeline', text_encoder: [null, null], tokenizer: [null, null], force_zeros_for_empty_prompt: false }));
  const unetFile = join(model, 'unet', 'config.json');
  const unet = JSON.parse(await readFile(unetFile, 'utf8'));
  await writeFile(unetFile, JSON.stringify({ ...unet, cross_attention_dim: 16, requires_aesthetics_score: true }));
  const info = await readModelInfo(model);
  assert.equal(info.kind, 'sdxl');
  assert.equal(info.textHiddenSize, 16);
  assert.deepEqual(info.sdxl, { textEncoders: ['text_encoder_2'], forceZerosForEmptyPrompt: false, requiresAestheticsScore: true, pooledSize: 16 });
});
