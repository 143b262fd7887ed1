// Large latents: a UNet call whose self-attention would exceed MAX_ATTENTION_ROWS_TOKENS2 (the CFG
// pair of a 512² SD 1.x image) runs one row group at a time, with the prediction of one call.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createSession } from '../src/models/onnx-session.ts';
import { UnetModel, MAX_ATTENTION_ROWS_TOKENS2 } from '../src/models/unet-model.ts';
import { MODELS_DIR } from './support/pipeline-golden.ts';

const loaded = await createSession(join(MODELS_DIR, 'tiny-sd15', 'unet', 'model.onnx'), { intraOpNumThreads: 1 });
after(() => loaded.session.release());
const unet = new UnetModel(loaded);

test('rows per call: whole batches while the attention is small, one row at 64×64 latents', () => {
  assert.equal(MAX_ATTENTION_ROWS_TOKENS2, 4096 ** 2);
  assert.equal(unet.rowsPerCall(2, 64, 64), 1);
  assert.equal(unet.rowsPerCall(8, 32, 32), 8);
  assert.equal(unet.rowsPerCall(40, 32, 32), 16);
  assert.equal(unet.rowsPerCall(2, 96, 96), 1);
});

test('a 64×64 CFG pair runs as two calls and gives the prediction of one call', async () => {
  const [rows, h, w, seq, hidden] = [2, 64, 64, 77, 32];
  const sample = Float32Array.from({ length: rows * 4 * h * w }, (_, i) => Math.sin(i * 0.37));
  const text = Float32Array.from({ length: rows * seq * hidden }, (_, i) => Math.cos(i * 0.11));
  const whole = await loaded.session.run({
    sample: new ort.Tensor('float32', sample, [rows, 4, h, w]), timestep: new ort.Tensor('float32', new Float32Array([501]), []),
    encoder_hidden_states: new ort.Tensor('float32', text, [rows, seq, hidden]),
  });
  let calls = 0;
  const run = loaded.session.run.bind(loaded.session);
  (loaded.session as unknown as { run: typeof run }).run = ((feeds: Record<string, ort.Tensor>, ...rest: unknown[]) => {
    calls++;
    assert.equal(feeds.sample!.dims[0], 1);
    return (run as (...a: unknown[]) => Promise<ort.InferenceSession.ReturnType>)(feeds, ...rest);
  }) as typeof run;
  const split = await unet.run(sample, [rows, 4, h, w], 501, unet.prepareHidden(text, rows, seq, hidden));
  assert.equal(calls, 2);
  const expected = whole.out_sample!.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i]! - split[i]!));
  assert.ok(worst < 1e-5, `max |split − whole| = ${worst}`);
});
