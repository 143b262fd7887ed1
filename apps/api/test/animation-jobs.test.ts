// Animation jobs at the API: recorded as type animation with normalised settings, and every bad
// setting a 400 naming its field (schedules, frames over MAX_ANIMATION_FRAMES, mp4 without ffmpeg).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ffmpegAvailable } from '@sdsvc/animation';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
before(async () => { h = await startHarness({ MAX_ANIMATION_FRAMES: '10' }); });
after(async () => { await h.close(); });

const submit = (body: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: 'animation', prompt: 'a forest', frames: 4, steps: 2, ...body } });

test('an animation job is recorded with its normalised settings (numbers become schedules, defaults filled in)', async () => {
  const res = await submit({ prompts: undefined, strength: 0.5, guidance_scale: 6, seed: 3, fps: 8 });
  assert.equal(res.statusCode, 202, res.body);
  const job = res.json();
  assert.equal(job.type, 'animation');
  assert.deepEqual({ ...job.params.animation, prompts: undefined, negative_prompts: undefined }, {
    frames: 4, fps: 8, prompts: undefined, negative_prompts: undefined, prompt_interpolation: false, seed_behavior: 'iter',
    zoom: '0:(1.0)', angle: '0:(0)', translation_x: '0:(0)', translation_y: '0:(0)', strength: '0:(0.5)', guidance_scale: '0:(6)',
    noise: '0:(0.02)', border: 'replicate', color_coherence: 'none', output_format: 'webp', keep_frames: false,
  });
  assert.deepEqual(job.params.animation.prompts, { 0: 'a forest' });
  assert.equal(job.params.seed, 3);
  assert.equal(job.params.guidance_scale, 6);
});

test('bad settings are 400s naming the field', async () => {
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ zoom: '0:(0)' }, 'invalid_schedule', 'zoom'],
    [{ angle: '0:(sin(t)' }, 'invalid_schedule', 'angle'],
    [{ seed_behavior: 'schedule', seed_schedule: '0:(-1)' }, 'invalid_schedule', 'seed_schedule'],
    [{ frames: 11 }, 'validation_failed', 'frames'],
    [{ frames: 1 }, 'validation_failed', 'frames'],
    [{ prompt: undefined }, 'validation_failed', 'prompt'],
    [{ prompt: undefined, prompts: { 2: 'x' } }, 'validation_failed', 'prompts'],
    [{ output_format: 'avi' }, 'validation_failed', 'output_format'],
    [{ border: 'mirror' }, 'validation_failed', 'border'],
    [{ prompt: 'a {image} forest' }, 'validation_failed', 'prompt'],
  ];
  for (const [body, code, path] of cases) {
    const res = await submit(body);
    assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
    assert.equal(res.json().code, code, JSON.stringify(body));
    assert.equal(res.json().errors?.[0]?.path, path, JSON.stringify(body));
  }
});

test('mp4 needs ffmpeg on the server: 400 format_unavailable without it', async (t) => {
  const res = await submit({ output_format: 'mp4' });
  if (ffmpegAvailable()) {
    t.diagnostic('ffmpeg is on the PATH here: mp4 is accepted');
    assert.equal(res.statusCode, 202);
  } else {
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'format_unavailable');
    assert.equal(res.json().errors[0].path, 'output_format');
  }
});
