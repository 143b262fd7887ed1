// A UNet exported with a static text axis (encoder_hidden_states [batch, 77, hidden]) cannot take
// the 154 tokens of a two-chunk A1111 prompt: the engine says so clearly instead of failing inside
// onnxruntime. The tiny graphs are dynamic, so a proxy reports a static sequence length.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import { UnetModel, PromptTooLongError } from '../src/models/unet-model.ts';
import { MODELS_DIR } from './support/pipeline-golden.ts';

function staticSequence(session: InferenceSession): InferenceSession {
  const inputMetadata = session.inputMetadata.map((m) =>
    m.isTensor && m.name === 'encoder_hidden_states' ? { ...m, shape: [m.shape[0]!, 77, m.shape[2]!] } : m);
  return new Proxy(session, {
    get(target, prop) {
      if (prop === 'inputMetadata') return inputMetadata;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const pipe = await StableDiffusionPipeline.load(join(MODELS_DIR, 'tiny-sd15'), { warmup: false, intraOpNumThreads: 1 });
after(() => pipe.release());
const u = pipe.models.unet;
pipe.models.unet = new UnetModel({ session: staticSequence(u.session), provider: 'cpu', file: u.file });

const base = { mode: 'txt2img' as const, width: 64, height: 64, steps: 2, guidanceScale: 7.5, seed: 1, numImages: 1, promptSyntax: 'a1111' as const };

test('a prompt within 75 tokens runs on a UNet with a static 77-token text axis', async () => {
  assert.equal(pipe.models.unet.fixedSequenceLength, 77);
  const res = await pipe.generate({ ...base, prompt: 'a (red:1.2) fox' });
  assert.equal(res.images.length, 1);
});

test('a two-chunk prompt on that UNet fails with prompt_too_long, naming the limit', async () => {
  const long = Array(90).fill('cat').join(' '); // 90 tokens: two chunks
  await assert.rejects(pipe.generate({ ...base, prompt: long }), (err: unknown) => {
    assert.ok(err instanceof PromptTooLongError);
    assert.equal(err.code, 'prompt_too_long');
    assert.match(err.message, /exactly 77 text tokens/);
    assert.match(err.message, /needs 154/);
    return true;
  });
});
