/**
 * ATen's `normal_fill_16`: Box–Muller on a block of 16 float32 uniforms in place, pairing element
 * j (radius, from log(1 - u)) with element j + 8 (angle). Used by torch.randn for contiguous
 * float32 tensors of 16 elements or more. Two variants, as torch ships them:
 * - 'default': the scalar kernel (glibc logf and sincosf in float32, angle rounded from a double);
 * - 'avx2': the vectorised kernel with avx_mathfun's float32 polynomials.
 */
import { logAvx2, sincosAvx2, sincosOut } from './avx2-mathfun.ts';
import { glibcLogf, glibcSincosf, glibcSincosOut } from './glibc-float-math.ts';

export type NormalKernel = 'avx2' | 'default';

const f = Math.fround;
const TWO_PI = 2 * Math.PI;
const TWO_PI_F32 = f(TWO_PI);

/** Scalar kernel: `2.0f * pi<double> * u2` is evaluated in double, then stored as a float. */
export function normalFill16Default(data: Float32Array, offset: number): void {
  for (let j = offset; j < offset + 8; j++) {
    const u1 = f(1 - data[j]!);
    const u2 = data[j + 8]!;
    const radius = f(Math.sqrt(f(-2 * glibcLogf(u1))));
    glibcSincosf(f(TWO_PI * u2));
    data[j] = f(radius * glibcSincosOut.cos);
    data[j + 8] = f(radius * glibcSincosOut.sin);
  }
}

/** AVX2 kernel, one lane at a time. */
export function normalFill16Avx2(data: Float32Array, offset: number): void {
  for (let j = offset; j < offset + 8; j++) {
    const u1 = f(1 - data[j]!);
    const u2 = data[j + 8]!;
    const radius = f(Math.sqrt(f(-2 * logAvx2(u1))));
    sincosAvx2(f(TWO_PI_F32 * u2));
    data[j] = f(radius * sincosOut.cos);
    data[j + 8] = f(radius * sincosOut.sin);
  }
}
