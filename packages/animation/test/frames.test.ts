import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  addNoise, encodeAnimation, ffmpegAvailable, labToRgb, matchColorsLab, planAnimation, PlanError, rgbToLab, warpFrame, type Frame,
} from '../src/index.ts';

function pattern(w: number, h: number): Frame {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = (y * w + x) * 3;
    data[o] = x * 10; data[o + 1] = y * 10; data[o + 2] = (x * y) % 256;
  }
  return { width: w, height: h, data };
}
const px = (f: Frame, x: number, y: number) => Array.from(f.data.subarray((y * f.width + x) * 3, (y * f.width + x) * 3 + 3));

test('translation moves known pixels by whole pixels; the exposed edge replicates or wraps', () => {
  const src = pattern(16, 12);
  const moved = warpFrame(src, { zoom: 1, angle: 0, translationX: 3, translationY: -2 }, 'replicate');
  assert.deepEqual(px(moved, 10, 5), px(src, 7, 7));
  assert.deepEqual(px(moved, 0, 0), px(src, 0, 2), 'replicated edge');
  const wrapped = warpFrame(src, { zoom: 1, angle: 0, translationX: 3, translationY: 0 }, 'wrap');
  assert.deepEqual(px(wrapped, 0, 4), px(src, 13, 4), 'wrapped from the right edge');
});

test('zoom 2 about the centre doubles distances from it; rotation by 90° turns about the centre', () => {
  const src = pattern(16, 16);
  const zoomed = warpFrame(src, { zoom: 2, angle: 0, translationX: 0, translationY: 0 }, 'replicate');
  assert.deepEqual(px(zoomed, 8, 8), px(src, 8, 8));
  assert.deepEqual(px(zoomed, 12, 8), px(src, 10, 8));
  assert.deepEqual(px(zoomed, 8, 4), px(src, 8, 6));
  const turned = warpFrame(src, { zoom: 1, angle: 90, translationX: 0, translationY: 0 }, 'replicate');
  // OpenCV's positive angle is counter-clockwise on screen (y down): the point right of centre goes up.
  assert.deepEqual(px(turned, 8, 5), px(src, 11, 8));
});

test('identity motion copies the frame', () => {
  const src = pattern(8, 8);
  const same = warpFrame(src, { zoom: 1, angle: 0, translationX: 0, translationY: 0 }, 'wrap');
  assert.deepEqual(same.data, src.data);
  assert.notEqual(same.data, src.data);
});

test('noise: seeded, centred, of the asked strength; 0 changes nothing', () => {
  const flat: Frame = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(128) };
  const a = addNoise(flat, 0.02, 7);
  assert.deepEqual(a.data, addNoise(flat, 0.02, 7).data, 'same seed, same noise');
  assert.notDeepEqual(a.data, addNoise(flat, 0.02, 8).data);
  const d = Array.from(a.data, (v) => v - 128);
  const mean = d.reduce((s, v) => s + v, 0) / d.length;
  const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
  assert.ok(Math.abs(mean) < 0.5, `mean ${mean}`);
  assert.ok(Math.abs(sd - 0.02 * 255) < 0.6, `sd ${sd}`);
  assert.deepEqual(addNoise(flat, 0, 1).data, flat.data);
});

test('LAB conversion round-trips, and colour matching pulls a drifted frame back to the reference', () => {
  const ref = pattern(20, 20);
  const back = labToRgb(rgbToLab(ref), 20, 20);
  for (let i = 0; i < ref.data.length; i++) assert.ok(Math.abs(back.data[i]! - ref.data[i]!) <= 1);
  // Drift: everything tinted red and darker.
  const drifted: Frame = { ...ref, data: ref.data.map((v, i) => (i % 3 === 0 ? Math.min(255, v + 60) : Math.round(v * 0.7))) };
  const fixed = matchColorsLab(drifted, ref);
  const meanOf = (f: Frame, c: number) => { let s = 0; for (let i = c; i < f.data.length; i += 3) s += f.data[i]!; return s / (f.data.length / 3); };
  for (let c = 0; c < 3; c++) {
    assert.ok(Math.abs(meanOf(fixed, c) - meanOf(ref, c)) < Math.abs(meanOf(drifted, c) - meanOf(ref, c)) / 3, `channel ${c}`);
  }
});

test('animated WebP and GIF have the asked frame count, size and frame delay', async () => {
  const frames = [0, 60, 120, 180].map((v) => ({ width: 24, height: 16, data: new Uint8Array(24 * 16 * 3).fill(v) }));
  for (const format of ['webp', 'gif'] as const) {
    const buf = await encodeAnimation(frames, 10, format);
    const meta = await sharp(buf, { animated: true }).metadata();
    assert.equal(meta.format, format);
    assert.equal(meta.pages, 4);
    assert.equal(meta.width, 24);
    assert.equal(meta.pageHeight, 16);
    assert.deepEqual(meta.delay, [100, 100, 100, 100]);
    // The third frame decodes to its colour (GIF palettes are exact for flat grays).
    const third = await sharp(buf, { page: 2 }).raw().toBuffer();
    assert.ok(Math.abs(third[0]! - 120) <= 2, `${format} frame 2 = ${third[0]}`);
  }
});

test('mp4 needs ffmpeg; without it the encoder says so', async (t) => {
  const frames = [{ width: 16, height: 16, data: new Uint8Array(16 * 16 * 3) }];
  if (ffmpegAvailable()) {
    const mp4 = await encodeAnimation(frames, 12, 'mp4');
    assert.equal(mp4.toString('latin1', 4, 8), 'ftyp');
  } else {
    t.diagnostic('ffmpeg not on PATH: checking the refusal');
    await assert.rejects(encodeAnimation(frames, 12, 'mp4'), /needs ffmpeg/);
  }
});

test('plan: seed behaviours, keyframed prompts, interpolation weights, schedules per frame', () => {
  const base = { frames: 5, seed: 100, guidanceScale: 7 };
  assert.deepEqual(planAnimation({ ...base, prompt: 'a' }).map((f) => f.seed), [100, 101, 102, 103, 104]);
  assert.deepEqual(planAnimation({ ...base, prompt: 'a', seedBehavior: 'fixed' }).map((f) => f.seed), [100, 100, 100, 100, 100]);
  const r1 = planAnimation({ ...base, prompt: 'a', seedBehavior: 'random' }).map((f) => f.seed);
  assert.deepEqual(planAnimation({ ...base, prompt: 'a', seedBehavior: 'random' }).map((f) => f.seed), r1, 'reproducible');
  assert.equal(new Set(r1).size, 5);
  assert.deepEqual(planAnimation({ ...base, prompt: 'a', seedBehavior: 'schedule', seedSchedule: '0:(5), 4:(9)' }).map((f) => f.seed), [5, 6, 7, 8, 9]);
  const keyed = planAnimation({ ...base, prompts: { 0: 'spring', 3: 'autumn' } });
  assert.deepEqual(keyed.map((f) => f.prompt.prompt), ['spring', 'spring', 'spring', 'autumn', 'autumn']);
  const blended = planAnimation({ ...base, prompts: { 0: 'spring', 4: 'autumn' }, promptInterpolation: true });
  assert.deepEqual(blended.map((f) => f.prompt.blend?.weight ?? 0), [0, 0.25, 0.5, 0.75, 0]);
  assert.equal(blended[4]!.prompt.prompt, 'autumn');
  const p = planAnimation({ ...base, prompt: 'a', zoom: '0:(1), 4:(1.4)', strength: '0:(0.5)', noise: '0:(0)' });
  assert.ok(Math.abs(p[2]!.motion.zoom - 1.2) < 1e-12);
  assert.equal(p[3]!.strength, 0.5);
  assert.equal(p[0]!.noise, 0);
  assert.equal(p[1]!.guidanceScale, 7);
});

test('plan: bad schedules and values name their field', () => {
  const base = { frames: 3, seed: 1, guidanceScale: 7, prompt: 'a' };
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ zoom: '0:(0)' }, 'zoom'], [{ zoom: 'nope' }, 'zoom'], [{ strength: '0:(1.5)' }, 'strength'], [{ noise: '0:(-1)' }, 'noise'],
    [{ seedBehavior: 'schedule' }, 'seed_schedule'], [{ seedBehavior: 'schedule', seedSchedule: '0:(-3)' }, 'seed_schedule'],
    [{ prompt: undefined, prompts: { 2: 'x' } }, 'prompts'], [{ translationX: '0:(t/0)' }, 'translation_x'],
  ];
  for (const [extra, field] of cases) {
    assert.throws(() => planAnimation({ ...base, ...extra }), (e: unknown) => e instanceof PlanError && e.field === field, JSON.stringify(extra));
  }
});
