/**
 * Writes merged weights into a copy of a graph's bytes: the model file (inline raw_data) and, for
 * exports whose weights live in external data files, those files too. Sizes never change (W' has
 * W's dtype and shape), so values are overwritten in place and nothing is re-encoded. The result
 * feeds InferenceSession.create(model, { externalData }).
 */
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loraDelta } from '../delta.ts';
import type { WeightPatch } from '../match.ts';
import { ONNX_BFLOAT16, ONNX_FLOAT, ONNX_FLOAT16, type OnnxGraphIndex } from './graph-index.ts';
import { OnnxFormatError } from './wire.ts';

export interface PatchedGraph {
  /** The original graph file (for messages and session bookkeeping). */
  file: string;
  model: Uint8Array;
  /** Every external data file the graph references, by its location in the graph. */
  externalData: Array<{ path: string; data: Uint8Array }>;
  /** Weights changed. */
  patched: number;
}

const ITEM: Record<number, number> = { [ONNX_FLOAT]: 4, [ONNX_FLOAT16]: 2, [ONNX_BFLOAT16]: 2 };

function bf16Bits(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) return (u >>> 16) | 0x40; // NaN stays NaN
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff; // round to nearest even
}

function readValues(view: DataView, dataType: number, count: number): Float32Array {
  const w = new Float32Array(count);
  if (dataType === ONNX_FLOAT) for (let i = 0; i < count; i++) w[i] = view.getFloat32(i * 4, true);
  else if (dataType === ONNX_FLOAT16) for (let i = 0; i < count; i++) w[i] = view.getFloat16(i * 2, true);
  else { const u = new Uint32Array(w.buffer); for (let i = 0; i < count; i++) u[i] = view.getUint16(i * 2, true) << 16; }
  return w;
}

function writeValues(view: DataView, dataType: number, w: Float32Array): void {
  if (dataType === ONNX_FLOAT) for (let i = 0; i < w.length; i++) view.setFloat32(i * 4, w[i]!, true);
  else if (dataType === ONNX_FLOAT16) for (let i = 0; i < w.length; i++) view.setFloat16(i * 2, w[i]!, true);
  else for (let i = 0; i < w.length; i++) view.setUint16(i * 2, bf16Bits(w[i]!), true);
}

/** W ← W + Σ deltas, each added in float32 in turn (as fusing LoRAs one after another does). */
export function applyDeltas(w: Float32Array, p: WeightPatch): void {
  for (const { target, scale } of p.deltas) {
    const d = loraDelta(target, scale);
    for (let o = 0; o < p.out; o++) {
      for (let i = 0; i < p.inFlat; i++) {
        const at = p.layout === 'in_out' ? i * p.out + o : o * p.inFlat + i;
        w[at] = Math.fround(w[at]! + d[o * p.inFlat + i]!);
      }
    }
  }
}

/** A whole file in memory; readFile stops at 2 GiB, and SD UNets' external data files are larger. */
export async function readWhole(file: string): Promise<Uint8Array> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const out = new Uint8Array(size);
    const CHUNK = 1 << 28;
    for (let at = 0; at < size;) {
      const { bytesRead } = await fh.read(out, at, Math.min(CHUNK, size - at), at);
      if (bytesRead === 0) throw new OnnxFormatError(file, `file ended at byte ${at} of ${size} while reading it`);
      at += bytesRead;
    }
    return out;
  } finally {
    await fh.close();
  }
}

export async function patchGraph(index: OnnxGraphIndex, patches: readonly WeightPatch[]): Promise<PatchedGraph> {
  const model = await readWhole(index.file);
  const externalData: PatchedGraph['externalData'] = [];
  const external = new Map<string, Uint8Array>();
  for (const loc of index.externalFiles) {
    const data = await readWhole(join(dirname(index.file), loc));
    external.set(loc, data);
    externalData.push({ path: loc, data });
  }
  for (const p of patches) {
    const { init } = p;
    const count = init.dims.reduce((a, b) => a * b, 1);
    const bytes = count * ITEM[init.dataType]!;
    const data = init.data!;
    const buf = data.kind === 'inline' ? model : external.get(data.location)!;
    if ((data.length !== null && data.length !== bytes) || data.offset + bytes > buf.byteLength) {
      throw new OnnxFormatError(index.file, `initializer ${init.name}: ${data.length ?? 'unknown'} stored bytes do not hold ${init.dims.join('×')} values`);
    }
    const view = new DataView(buf.buffer, buf.byteOffset + data.offset, bytes);
    const w = readValues(view, init.dataType, count);
    applyDeltas(w, p);
    writeValues(view, init.dataType, w);
  }
  return { file: index.file, model, externalData, patched: patches.length };
}
