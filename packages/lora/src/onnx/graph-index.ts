/**
 * An index of the Linear/Conv weights of one ONNX graph, read without loading the file. Exports
 * constant-fold Linear weights into anonymous transposed initializers (`onnx::MatMul_<n>`, [in,
 * out]), so a weight is found through the node that consumes it, whose name is the module path:
 * `/down_blocks.0/attentions.0/transformer_blocks.0/attn1/to_q/MatMul` → module
 * `down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q`.
 *
 * ONNX fields used (onnx.proto): ModelProto.graph = 7; GraphProto.node = 1, initializer = 5;
 * NodeProto.input = 1, name = 3, op_type = 4, attribute = 5; AttributeProto.name = 1, i = 3;
 * TensorProto.dims = 1, data_type = 2, float_data = 4, name = 8, raw_data = 9, external_data = 13,
 * data_location = 14; StringStringEntryProto.key = 1, value = 2.
 */
import { Cursor, FileBytes, OnnxFormatError, WIRE_LEN, WIRE_VARINT } from './wire.ts';

export const ONNX_FLOAT = 1;
export const ONNX_FLOAT16 = 10;
export const ONNX_BFLOAT16 = 16;

export type TensorData =
  | { kind: 'inline'; offset: number; length: number }
  | { kind: 'external'; location: string; offset: number; length: number | null };

export interface InitializerInfo {
  name: string;
  dims: number[];
  dataType: number;
  /** Where the values lie; null when they are stored in a form we do not patch (typed repeated fields). */
  data: TensorData | null;
}

export interface WeightNode {
  module: string;
  node: string;
  op: 'MatMul' | 'Gemm' | 'Conv';
  /** The initializer holding the weight (input 1), or null when it is computed. */
  weight: string | null;
  /** Gemm's transB: the weight is stored [out, in] rather than [in, out]. */
  transB: boolean;
}

export interface OnnxGraphIndex {
  file: string;
  /** By dotted module path. */
  modules: Map<string, WeightNode>;
  /** By kohya's form of the module path ("." → "_"). */
  kohya: Map<string, string>;
  initializers: Map<string, InitializerInfo>;
  /** External data files the graph references (relative to the graph's folder). */
  externalFiles: string[];
}

const WEIGHT_OPS = new Set(['MatMul', 'Gemm', 'Conv']);

function readNode(c: Cursor): WeightNode | null {
  const inputs: string[] = [];
  let name = '';
  let op = '';
  let transB = false;
  for (let f = c.next(); f; f = c.next()) {
    if (f.no === 1 && f.wire === WIRE_LEN) inputs.push(c.string(f));
    else if (f.no === 3 && f.wire === WIRE_LEN) name = c.string(f);
    else if (f.no === 4 && f.wire === WIRE_LEN) op = c.string(f);
    else if (f.no === 5 && f.wire === WIRE_LEN) {
      const a = c.sub(f);
      let attr = '';
      let i = 0;
      for (let g = a.next(); g; g = a.next()) {
        if (g.no === 1 && g.wire === WIRE_LEN) attr = a.string(g);
        else if (g.no === 3 && g.wire === WIRE_VARINT) i = g.value;
      }
      if (attr === 'transB') transB = i !== 0;
    }
  }
  if (!WEIGHT_OPS.has(op) || !name.startsWith('/')) return null;
  const parts = name.slice(1).split('/');
  if (parts.length < 2 || parts.at(-1) !== op) return null;
  return { module: parts.slice(0, -1).join('.'), node: name, op: op as WeightNode['op'], weight: inputs[1] ?? null, transB: op === 'Gemm' && transB };
}

function readTensor(c: Cursor): InitializerInfo {
  const dims: number[] = [];
  let name = '';
  let dataType = 0;
  let raw: TensorData | null = null;
  let floats: TensorData | null = null;
  let external = false;
  const ext = new Map<string, string>();
  for (let f = c.next(); f; f = c.next()) {
    if (f.no === 1 && f.wire === WIRE_VARINT) dims.push(f.value);
    else if (f.no === 1 && f.wire === WIRE_LEN) {
      const p = c.sub(f);
      while (p.pos < p.end) dims.push(p.varint());
    } else if (f.no === 2 && f.wire === WIRE_VARINT) dataType = f.value;
    else if (f.no === 4 && f.wire === WIRE_LEN) floats = { kind: 'inline', offset: f.start, length: f.end - f.start };
    else if (f.no === 8 && f.wire === WIRE_LEN) name = c.string(f);
    else if (f.no === 9 && f.wire === WIRE_LEN) raw = { kind: 'inline', offset: f.start, length: f.end - f.start };
    else if (f.no === 13 && f.wire === WIRE_LEN) {
      const e = c.sub(f);
      let k = '';
      let v = '';
      for (let g = e.next(); g; g = e.next()) {
        if (g.no === 1 && g.wire === WIRE_LEN) k = e.string(g);
        else if (g.no === 2 && g.wire === WIRE_LEN) v = e.string(g);
      }
      ext.set(k, v);
    } else if (f.no === 14 && f.wire === WIRE_VARINT) external = f.value === 1;
  }
  let data: TensorData | null = raw ?? (dataType === ONNX_FLOAT ? floats : null);
  if (external) {
    const location = ext.get('location') ?? '';
    const length = ext.has('length') ? Number(ext.get('length')) : null;
    data = { kind: 'external', location, offset: Number(ext.get('offset') ?? 0), length };
  }
  return { name, dims, dataType, data };
}

export function indexOnnxGraph(file: string): OnnxGraphIndex {
  const src = new FileBytes(file);
  try {
    const modules = new Map<string, WeightNode>();
    const initializers = new Map<string, InitializerInfo>();
    const model = new Cursor(src, 0, src.size);
    let sawGraph = false;
    for (let f = model.next(); f; f = model.next()) {
      if (f.no !== 7 || f.wire !== WIRE_LEN) continue;
      sawGraph = true;
      const g = model.sub(f);
      for (let h = g.next(); h; h = g.next()) {
        if (h.wire !== WIRE_LEN) continue;
        if (h.no === 1) {
          const node = readNode(g.sub(h));
          if (node && node.weight && !modules.has(node.module)) modules.set(node.module, node);
        } else if (h.no === 5) {
          const t = readTensor(g.sub(h));
          initializers.set(t.name, t);
        }
      }
    }
    if (!sawGraph) throw new OnnxFormatError(file, 'no graph');
    const kohya = new Map<string, string>();
    for (const m of modules.keys()) kohya.set(m.replaceAll('.', '_'), m);
    const externalFiles = [...new Set([...initializers.values()].flatMap((t) => t.data?.kind === 'external' ? [t.data.location] : []))];
    for (const loc of externalFiles) {
      if (loc === '' || loc.startsWith('/') || loc.split(/[\\/]/).includes('..')) throw new OnnxFormatError(file, `external data location "${loc}" is not a file beside the graph`);
    }
    return { file, modules, kohya, initializers, externalFiles };
  } finally {
    src.close();
  }
}
