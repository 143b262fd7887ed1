import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TorchGenerator } from '../src/random/torch-generator.ts';
import { randnTensor } from '../src/random/noise-generator.ts';

const RNG_DIR = fileURLToPath(new URL('../../../test/fixtures/parity/rng/', import.meta.url));

interface ArrayRef { file: string; shape: number[] }
interface Draw { op: 'randn' | 'rand'; shape: number[]; data: ArrayRef }
interface RngCase {
  id: string; seed: number; seed_str: string; op: 'randn' | 'rand' | 'sequence';
  shape?: number[]; data?: ArrayRef; sequence?: Draw[];
}

const index = JSON.parse(readFileSync(RNG_DIR + 'index.json', 'utf8')) as { cases: RngCase[] };

function golden(ref: ArrayRef): Float32Array {
  const bytes = readFileSync(RNG_DIR + ref.file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Bit-identical comparison that names the first differing element. */
function assertSameFloats(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]) && actual[i] !== expected[i]) {
      assert.fail(`${what}: element ${i} is ${actual[i]}, torch gives ${expected[i]}`);
    }
  }
}

function casesOf(c: RngCase): Draw[] {
  return c.op === 'sequence' ? c.sequence! : [{ op: c.op, shape: c.shape!, data: c.data! }];
}

describe('TorchGenerator matches torch CPU goldens bit for bit', () => {
  for (const c of index.cases) {
    const kernel = c.id.startsWith('default_') ? 'default' : 'avx2';
    it(c.id, () => {
      const gen = new TorchGenerator(BigInt(c.seed_str), { kernel });
      casesOf(c).forEach((draw, i) => {
        const got = draw.op === 'randn' ? gen.randn(draw.shape) : gen.rand(draw.shape);
        assertSameFloats(got, golden(draw.data), `${c.id} draw ${i} (${draw.op} [${draw.shape.join(',')}])`);
      });
    });
  }

  it('covers every kind of case in the index', () => {
    const ops = new Set(index.cases.map((c) => c.op));
    assert.deepEqual([...ops].sort(), ['rand', 'randn', 'sequence']);
    assert.ok(index.cases.some((c) => c.id.startsWith('default_')));
  });
});

describe('TorchGenerator seeding', () => {
  it('seeds from the low 32 bits: 2^32 + 42 gives the stream of 42 (number or bigint)', () => {
    const expected = new TorchGenerator(42).randn([1, 4, 8, 8]);
    assertSameFloats(new TorchGenerator(2 ** 32 + 42).randn([1, 4, 8, 8]), expected, 'number seed');
    assertSameFloats(new TorchGenerator(2n ** 32n + 42n).randn([1, 4, 8, 8]), expected, 'bigint seed');
  });

  it('accepts seeds up to 2^53 - 1 as numbers, agreeing with the bigint', () => {
    const max = Number.MAX_SAFE_INTEGER;
    assertSameFloats(new TorchGenerator(max).rand([5]), new TorchGenerator(BigInt(max)).rand([5]), 'max safe seed');
  });

  it('rejects seeds that are not exact integers', () => {
    assert.throws(() => new TorchGenerator(1.5), RangeError);
    assert.throws(() => new TorchGenerator(2 ** 60), RangeError);
  });

  it('kernels differ only for randn of 16+ elements', () => {
    const a = new TorchGenerator(3, { kernel: 'avx2' });
    const d = new TorchGenerator(3, { kernel: 'default' });
    assertSameFloats(a.randn([15]), d.randn([15]), 'randn [15]');
    assertSameFloats(a.rand([64]), d.rand([64]), 'rand [64]');
    const big = a.randn([256]);
    const bigDefault = d.randn([256]);
    for (let i = 0; i < big.length; i++) assert.ok(Math.abs(big[i]! - bigDefault[i]!) <= 2e-6);
    // ...and they do differ from 16 elements on (the vectorised Box-Muller), in the last bits.
    for (const n of [16, 17, 256]) {
      const va = new TorchGenerator(3, { kernel: 'avx2' }).randn([n]);
      const vd = new TorchGenerator(3, { kernel: 'default' }).randn([n]);
      assert.ok(va.some((v, i) => v !== vd[i]), `randn [${n}]: the kernels differ`);
    }
  });

  it('returns an empty array for a shape with a zero dimension', () => {
    assert.equal(new TorchGenerator(0).randn([2, 0, 4]).length, 0);
  });
});

describe('randnTensor', () => {
  it('draws row i from generator i with a list of generators', () => {
    const got = randnTensor([2, 4, 8, 8], [new TorchGenerator(100), new TorchGenerator(101)]);
    const row0 = new TorchGenerator(100).randn([1, 4, 8, 8]);
    const row1 = new TorchGenerator(101).randn([1, 4, 8, 8]);
    assertSameFloats(got.subarray(0, 256), row0, 'row 0');
    assertSameFloats(got.subarray(256), row1, 'row 1');
  });

  it('draws the whole shape from a single generator (alone or in a list of one)', () => {
    const expected = new TorchGenerator(0).randn([2, 4, 8, 8]);
    assertSameFloats(randnTensor([2, 4, 8, 8], new TorchGenerator(0)), expected, 'single');
    assertSameFloats(randnTensor([2, 4, 8, 8], [new TorchGenerator(0)]), expected, 'list of one');
    // A batch of 2 from one generator is not two rows of 1: the stream runs on.
    assert.notDeepEqual(expected.subarray(256), new TorchGenerator(0).randn([1, 4, 8, 8]));
  });

  it('rejects a list whose length is not the batch size', () => {
    assert.throws(() => randnTensor([3, 4], [new TorchGenerator(0), new TorchGenerator(1)]), /batch 3 but 2 generators/);
  });
});
