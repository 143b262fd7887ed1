/**
 * Writes tiny one-node ONNX models (Y = X·W through MatMul, or Gemm with transB) so the patcher
 * can be tested on float16, bfloat16, Gemm and external-data layouts no exported fixture has.
 */
import { fLen, fStr, fVar, type Msg } from '../../../../test/support/protobuf-writer.ts';

export interface TinyModel {
  op: 'MatMul' | 'Gemm';
  /** Node name, e.g. "/blk/proj/MatMul". */
  node: string;
  /** ONNX data type of W and X (1 float, 10 float16, 16 bfloat16). */
  dataType: number;
  /** W's stored dims ([in, out] for MatMul, [out, in] for Gemm transB). */
  dims: [number, number];
  /** W's stored bytes. */
  weight: Uint8Array;
  /** Store W in this external file instead of raw_data. */
  external?: string;
}

function valueInfo(name: string, elem: number, dims: number[]): Msg {
  const shape = dims.flatMap((d) => fLen(1, fVar(1, d)));
  return [...fStr(1, name), ...fLen(2, fLen(1, [...fVar(1, elem), ...fLen(2, shape)]))];
}

export function buildModel(m: TinyModel): Uint8Array {
  const inputs = m.op === 'Gemm' ? m.dims[1] : m.dims[0];
  const outputs = m.op === 'Gemm' ? m.dims[0] : m.dims[1];
  const attr = m.op === 'Gemm' ? fLen(5, [...fStr(1, 'transB'), ...fVar(3, 1), ...fVar(20, 2)]) : [];
  const node = [...fStr(1, 'X'), ...fStr(1, 'onnx::W_1'), ...fStr(2, 'Y'), ...fStr(3, m.node), ...fStr(4, m.op), ...attr];
  const tensor = [
    ...fVar(1, m.dims[0]), ...fVar(1, m.dims[1]), ...fVar(2, m.dataType), ...fStr(8, 'onnx::W_1'),
    ...(m.external
      ? [...fLen(13, [...fStr(1, 'location'), ...fStr(2, m.external)]), ...fLen(13, [...fStr(1, 'offset'), ...fStr(2, '0')]),
        ...fLen(13, [...fStr(1, 'length'), ...fStr(2, String(m.weight.length))]), ...fVar(14, 1)]
      : fLen(9, m.weight)),
  ];
  const graph = [
    ...fLen(1, node), ...fStr(2, 'g'), ...fLen(5, tensor),
    ...fLen(11, valueInfo('X', m.dataType, [1, inputs])), ...fLen(12, valueInfo('Y', m.dataType, [1, outputs])),
  ];
  return new Uint8Array([...fVar(1, 8), ...fLen(8, [...fStr(1, ''), ...fVar(2, 17)]), ...fLen(7, graph)]);
}

/** A safetensors file from float32 tensors (stored as `dtype`). */
export function buildSafetensors(tensors: Record<string, { shape: number[]; data: number[]; dtype?: 'F32' | 'F16' | 'BF16' }>): Uint8Array {
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = t.dtype ?? 'F32';
    let bytes: Uint8Array;
    if (dtype === 'F32') bytes = new Uint8Array(new Float32Array(t.data).buffer);
    else if (dtype === 'F16') bytes = new Uint8Array(new Float16Array(t.data).buffer);
    else bytes = new Uint8Array(new Uint16Array(new Uint32Array(new Float32Array(t.data).buffer).map((u) => u >>> 16)).buffer);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  return rawSafetensors(JSON.stringify(header), parts);
}

export function rawSafetensors(headerJson: string, parts: Uint8Array[] = [], declaredLength?: number): Uint8Array {
  let h = new TextEncoder().encode(headerJson);
  const padded = new Uint8Array(Math.ceil(h.length / 8) * 8).fill(0x20);
  padded.set(h);
  h = padded;
  const body = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(8 + h.length + body);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? h.length), true);
  out.set(h, 8);
  let at = 8 + h.length;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
