// fp16 graphs: float32 ↔ half bits, round-to-nearest-even, native and scalar paths agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { float16BitsToFloat32, float32ToFloat16Bits, halfBits } from '../src/models/float16.ts';

const cases: Array<[number, number]> = [
  [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [Infinity, 0x7c00],
  [2 ** -24, 0x0001], [2 ** -25, 0x0000], [1.5 * 2 ** -25, 0x0001], [2 ** -14, 0x0400],
  [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [0.1, 0x2e66], [1 / 3, 0x3555],
];

test('scalar conversion rounds to nearest even', () => {
  for (const [v, bits] of cases) assert.equal(halfBits.fromFloat(v), bits, `${v}`);
  assert.ok(Number.isNaN(halfBits.toFloat(halfBits.fromFloat(NaN))));
});

test('array conversion matches the scalar path and round-trips every half', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const f = float16BitsToFloat32(all);
  for (let i = 0; i < 65536; i += 97) {
    const expected = halfBits.toFloat(i);
    if (Number.isNaN(expected)) assert.ok(Number.isNaN(f[i]!));
    else assert.equal(f[i], expected);
  }
  const back = float32ToFloat16Bits(f);
  for (let i = 0; i < 65536; i++) if (!Number.isNaN(f[i]!)) assert.equal(back[i], i);
  const random = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i * 12.9898) * 70000);
  const native = float32ToFloat16Bits(random);
  for (let i = 0; i < random.length; i++) assert.equal(native[i], halfBits.fromFloat(random[i]!), `${random[i]}`);
});
