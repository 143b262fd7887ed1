/**
 * Reading what a graph expects (names, dtypes, ranks, fixed batch) and moving float data in and
 * out of it: float32 tensors wrap the caller's array without a copy; float16 graphs get exact
 * conversions.
 */
import * as ort from 'onnxruntime-node';
import { ModelFolderError } from './model-info.ts';
import { float16BitsToFloat32, float32ToFloat16Bits } from './float16.ts';

export interface IoSpec {
  name: string;
  type: ort.Tensor.Type;
  shape: ReadonlyArray<number | string>;
}

function specOf(list: readonly ort.InferenceSession.ValueMetadata[], name: string): IoSpec | undefined {
  const m = list.find((v) => v.name === name);
  if (!m || !m.isTensor) return undefined;
  return { name: m.name, type: m.type, shape: m.shape };
}

/** The first input among `names` the graph has; a clear error naming the file otherwise. */
export function findInput(session: ort.InferenceSession, file: string, names: readonly string[]): IoSpec {
  for (const n of names) {
    const s = specOf(session.inputMetadata, n);
    if (s) return s;
  }
  throw new ModelFolderError(file, `graph has no input ${names.map((n) => `"${n}"`).join(' or ')} (inputs: ${session.inputNames.join(', ')})`);
}

export function findOutput(session: ort.InferenceSession, file: string, names: readonly string[], fallbackFirst = true): IoSpec {
  for (const n of names) {
    const s = specOf(session.outputMetadata, n);
    if (s) return s;
  }
  const first = session.outputMetadata[0];
  if (fallbackFirst && first?.isTensor) return { name: first.name, type: first.type, shape: first.shape };
  throw new ModelFolderError(file, `graph has no output ${names.map((n) => `"${n}"`).join(' or ')} (outputs: ${session.outputNames.join(', ')})`);
}

/** The batch the graph is fixed at, or null when dynamic. */
export function fixedBatch(spec: IoSpec): number | null {
  const d = spec.shape[0];
  return typeof d === 'number' && d > 0 ? d : null;
}

export function requireFloat(spec: IoSpec, file: string): 'float32' | 'float16' {
  if (spec.type === 'float32' || spec.type === 'float16') return spec.type;
  throw new ModelFolderError(file, `"${spec.name}" is ${spec.type}; expected float32 or float16`);
}

/**
 * A float16 tensor over raw half bits. On runtimes with Float16Array (Node 24) onnxruntime-common
 * wraps Uint16Array data in a Float16Array view, which onnxruntime-node 1.30's binding cannot read
 * ("not enough space: expected N, got 0"); the binding reads the tensor's `data`, so that is
 * pinned to the bits (the same memory as the view, so getData() and friends still agree).
 */
export function float16Tensor(bits: Uint16Array, dims: readonly number[]): ort.Tensor {
  const t = new ort.Tensor('float16', bits, dims);
  if (!(t.data instanceof Uint16Array)) Object.defineProperty(t, 'data', { value: bits, enumerable: true });
  return t;
}

/** A float tensor of the graph's dtype over `data` (no copy for float32). */
export function floatTensor(type: 'float32' | 'float16', data: Float32Array, dims: readonly number[]): ort.Tensor {
  if (type === 'float32') return new ort.Tensor('float32', data, dims);
  return float16Tensor(float32ToFloat16Bits(data), dims);
}

/** The float32 view of an output (no copy for float32). */
export function floatData(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') {
    // Float16Array where the runtime has it (Node 24), else Uint16Array: the same half bits either way.
    const d = t.data as unknown as ArrayBufferView & { length: number; BYTES_PER_ELEMENT: number };
    if (d.BYTES_PER_ELEMENT !== 2) throw new Error(`float16 output held in ${d.constructor.name}`);
    return float16BitsToFloat32(new Uint16Array(d.buffer, d.byteOffset, d.length));
  }
  throw new Error(`unexpected output dtype ${t.type}`);
}
