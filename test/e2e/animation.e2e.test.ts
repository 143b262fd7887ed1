// An animation job through the real processes: API (validated, recorded) → queue → worker (frame
// loop on the engine thread, progress with frame numbers over SSE) → S3 → an animated WebP with
// every frame, and with keep_frames the frames as PNGs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startE2eStack, type E2eStack } from '../support/e2e-stack.ts';
import { collectSse } from '../support/sse.ts';

interface AnimationJob {
  id: string;
  status: string;
  type: string;
  params: { animation?: { frames: number; fps: number; zoom: string } };
  progress: { frame?: number; frames?: number };
  result: { images: Array<{ url: string; seed: number }>; animation?: { url: string; frames: number; fps: number; content_type: string; bytes: number } } | null;
  error: unknown;
}

describe('animation end to end', { timeout: 180_000 }, () => {
  let stack: E2eStack;
  before(async () => { stack = await startE2eStack(); });
  after(async () => { await stack?.stop(); });

  test('a 3-frame animation job: SSE reports frames, the WebP has 3 frames at the asked fps, frames kept as PNGs', async () => {
    await stack.startWorker();
    const job = (await stack.postJob({
      type: 'animation', prompts: { 0: 'a forest', 2: 'a desert' }, frames: 3, fps: 6, width: 64, height: 64, steps: 2, seed: 11,
      zoom: '0:(1.0), 2:(1.1)', angle: '0:(2*sin(pi*t/max_f))', keep_frames: true,
    })) as unknown as AnimationJob;
    assert.equal(job.type, 'animation');
    assert.equal(job.params.animation?.frames, 3);
    const frames = new Set<number>();
    await collectSse(`${stack.baseUrl}/v1/jobs/${job.id}/events`, {
      timeoutMs: 120_000,
      onEvent: (e) => {
        const p = (e.data as { job?: { progress?: { frame?: number; frames?: number } } }).job?.progress;
        if (p?.frames !== undefined) { assert.equal(p.frames, 3); frames.add(p.frame!); }
      },
    });
    assert.deepEqual([...frames].sort(), [0, 1, 2], 'progress names every frame');
    const done = (await stack.getJob(job.id)) as unknown as AnimationJob;
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    const anim = done.result!.animation!;
    assert.equal(anim.content_type, 'image/webp');
    const file = Buffer.from(await (await fetch(anim.url)).arrayBuffer());
    assert.equal(file.length, anim.bytes);
    const meta = await sharp(file, { animated: true }).metadata();
    assert.equal(meta.pages, 3);
    assert.deepEqual(meta.delay, [167, 167, 167]);
    assert.deepEqual(done.result!.images.map((i) => i.seed), [11, 12, 13]);
  });

  test('bad animation settings are 400s naming the field', async () => {
    const res = await fetch(`${stack.baseUrl}/v1/jobs`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'animation', prompt: 'x', frames: 4, translation_x: '0:(t/)' }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; errors: Array<{ path: string }> };
    assert.equal(body.code, 'invalid_schedule');
    assert.equal(body.errors[0]!.path, 'translation_x');
  });
});
