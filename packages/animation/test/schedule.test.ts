import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateSchedule, parseExpression, ScheduleError } from '../src/index.ts';

const close = (a: number[], b: number[]) => {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-9, `frame ${i}: ${v} vs ${b[i]}`));
};

test("Deforum's default zoom: one keyframe held for every frame", () => {
  close(evaluateSchedule('0:(1.0)', 4), [1, 1, 1, 1]);
});

test("Deforum's example 0:(1.0), 24:(1.04) interpolates linearly and holds after the last keyframe", () => {
  const v = evaluateSchedule('0:(1.0), 24:(1.04)', 30);
  assert.ok(Math.abs(v[12]! - 1.02) < 1e-12);
  assert.ok(Math.abs(v[6]! - 1.01) < 1e-12);
  assert.equal(v[24], 1.04);
  assert.equal(v[29], 1.04);
});

test('the first keyframe value is held before it; order in the text does not matter', () => {
  close(evaluateSchedule('10:(3), 4:(1)', 12), [1, 1, 1, 1, 1, 4 / 3, 5 / 3, 2, 7 / 3, 8 / 3, 3, 3]);
});

test("Deforum's expression examples: evaluated at every frame until the next keyframe", () => {
  // "0:(1.0025+0.002*sin(1.25*3.14*t/30))" from Deforum's docs.
  const v = evaluateSchedule('0:(1.0025+0.002*sin(1.25*3.14*t/30))', 31);
  for (const t of [0, 7, 30]) assert.ok(Math.abs(v[t]! - (1.0025 + 0.002 * Math.sin((1.25 * 3.14 * t) / 30))) < 1e-12);
  // An expression keyframe runs until a numeric keyframe takes over; then linear again.
  const w = evaluateSchedule('0:(t*2), 5:(0), 9:(4)', 10);
  close(w, [0, 2, 4, 6, 8, 0, 1, 2, 3, 4]);
});

test('max_f, pi, power, unary minus, min/max, floor/ceil/abs/tan', () => {
  close(evaluateSchedule('0:(t/max_f)', 5), [0, 0.25, 0.5, 0.75, 1]);
  const e = (s: string, t = 2) => parseExpression(s).evaluate({ t, max_f: 9 });
  assert.equal(e('2^3^2'), 512, 'power is right-associative');
  assert.equal(e('2**3'), 8);
  assert.equal(e('-2^2'), -4);
  assert.equal(e('-(t)'), -2);
  assert.equal(e('min(3, t, 5)'), 2);
  assert.equal(e('max(1, 2*t)'), 4);
  assert.equal(e('floor(2.7)+ceil(2.1)+abs(-1)'), 6);
  assert.ok(Math.abs(e('tan(pi/4)') - 1) < 1e-12);
  assert.equal(e('(1+2)*3-4/2'), 7);
  assert.equal(e('1e-2*100'), 1);
});

test('malformed schedules are refused with a reason', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /empty schedule/],
    ['1.0', /not a keyframe/],
    ['0:1.0', /not a keyframe/],
    ['0:(1.0), 0:(2)', /appears twice/],
    ['0:(1+)', /unexpected end/],
    ['0:(foo)', /unknown name "foo"/],
    ['0:(sin(1,2))', /sin\(\) takes 1 argument/],
    ['0:(min(1))', /at least 2/],
    ['0:((1)', /expected "\)"/],
    ['0:(1 2)', /unexpected "2"/],
    ['0:(1;2)', /unexpected ";"/],
    ['0:(1/(t-1))', /evaluates to Infinity at t=1/],
    ['5:(1)', /no keyframe before frame 3/],
    [`0:(${'('.repeat(100)}1${')'.repeat(100)})`, /nested too deeply/],
  ];
  for (const [src, reason] of bad) {
    assert.throws(() => evaluateSchedule(src, 3), (err: unknown) => err instanceof ScheduleError && reason.test(err.message), src);
  }
});

test('eval-like input cannot run code', () => {
  assert.throws(() => evaluateSchedule('0:(process.exit(1))', 2), ScheduleError);
  assert.throws(() => evaluateSchedule('0:(constructor)', 2), ScheduleError);
});
