/**
 * A stand-in for a TAESD decoder export (`vae_approx/model.onnx`), written here so the TAESD path
 * runs without downloading weights: one ConvTranspose (kernel 8, stride 8) that turns each latent
 * pixel into an 8×8 block of (factors·z + bias + 1) / 2, i.e. the linear latent→RGB map in [0, 1]
 * at 8× the latent size, with symbolic height and width as real exports have.
 */
import type { LatentRgbFactors } from '../../src/preview/latent-rgb.ts';

import { fLen, fStr, fVar, type Msg } from '../../../../test/support/protobuf-writer.ts';

const FLOAT = 1;
/** ValueInfoProto of a float tensor; string dims are symbolic (dim_param). */
function valueInfo(name: string, dims: Array<number | string>): Msg {
  const shape = dims.flatMap((d) => fLen(1, typeof d === 'number' ? fVar(1, d) : fStr(2, d)));
  return [...fStr(1, name), ...fLen(2, fLen(1, [...fVar(1, FLOAT), ...fLen(2, shape)]))];
}
function floatTensor(name: string, dims: number[], data: Float32Array): Msg {
  return [...dims.flatMap((d) => fVar(1, d)), ...fVar(2, FLOAT), ...fStr(8, name), ...fLen(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))];
}
const intsAttr = (name: string, values: number[]): Msg => fLen(5, [...fStr(1, name), ...values.flatMap((v) => fVar(8, v)), ...fVar(20, 7)]);

export function buildTaesdStub(table: LatentRgbFactors): Uint8Array {
  const c = table.factors.length;
  const weight = new Float32Array(c * 3 * 64);
  for (let ch = 0; ch < c; ch++) for (let k = 0; k < 3; k++) weight.fill(table.factors[ch]![k]! / 2, (ch * 3 + k) * 64, (ch * 3 + k + 1) * 64);
  const bias = Float32Array.from(table.bias, (b) => (b + 1) / 2);
  const node = [
    ...fStr(1, 'latent_sample'), ...fStr(1, 'W'), ...fStr(1, 'B'), ...fStr(2, 'sample'), ...fStr(3, 'up'), ...fStr(4, 'ConvTranspose'),
    ...intsAttr('kernel_shape', [8, 8]), ...intsAttr('strides', [8, 8]),
  ];
  const graph = [
    ...fLen(1, node), ...fStr(2, 'taesd_stub'),
    ...fLen(5, floatTensor('W', [c, 3, 8, 8], weight)), ...fLen(5, floatTensor('B', [3], bias)),
    ...fLen(11, valueInfo('latent_sample', [1, c, 'h', 'w'])), ...fLen(12, valueInfo('sample', [1, 3, 'H', 'W'])),
  ];
  return new Uint8Array([...fVar(1, 8), ...fLen(8, [...fStr(1, ''), ...fVar(2, 17)]), ...fLen(7, graph)]);
}
