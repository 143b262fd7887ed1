/**
 * Builds one ONNX graph node by node and writes it as torch.onnx.export + onnx.save with external
 * data would: model.onnx holds the graph, every weight over 1 KiB goes to model.onnx_data (offsets
 * aligned to 4 KiB), small constants stay inline. Weights are generated and written one tensor at
 * a time (random ~N(0, 0.02), or ones / zeros for norm scales and biases), so memory stays at the
 * size of the largest tensor whatever the model's size.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fFloat, fInt, fLen, fStr, fVar, varint, type Msg } from '../../test/support/protobuf-writer.ts';
import { Normal } from './normal.ts';

const FLOAT = 1;
const INT64 = 7;
const DATA_FILE = 'model.onnx_data';
const ALIGN = 4096;

/** An attribute value: an integer, a float (`{ f }`), a list of integers or a string. */
export type Attr = number | { f: number } | number[] | string;
export type Dim = number | string;

function attribute(name: string, v: Attr): Msg {
  if (typeof v === 'number') return [...fStr(1, name), ...fInt(3, v), ...fVar(20, 2)];
  if (typeof v === 'string') return [...fStr(1, name), ...fStr(4, v), ...fVar(20, 3)];
  if (Array.isArray(v)) return [...fStr(1, name), ...v.flatMap((i) => fInt(8, i)), ...fVar(20, 7)];
  return [...fStr(1, name), ...fFloat(2, v.f), ...fVar(20, 1)];
}

function valueInfo(name: string, elem: number, dims: Dim[] | null): Msg {
  const shape = dims === null ? [] : fLen(2, dims.flatMap((d) => fLen(1, typeof d === 'number' ? fVar(1, d) : fStr(2, d))));
  return [...fStr(1, name), ...fLen(2, fLen(1, [...fVar(1, elem), ...shape]))];
}

function concat(parts: Msg[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export class OnnxBuilder {
  /** Parameters written (elements of every weight; constants not counted). */
  params = 0;
  private readonly nodes: Msg[] = [];
  private readonly inits: Msg[] = [];
  private readonly inputs: Msg[] = [];
  private readonly outputs: Msg[] = [];
  private readonly fd: number;
  private offset = 0;
  private counter = 0;
  private readonly names = new Set<string>();

  private readonly dir: string;
  private readonly name: string;
  private readonly rng: Normal;
  private readonly std: number;

  constructor(dir: string, name: string, rng: Normal, std = 0.02) {
    this.dir = dir;
    this.name = name;
    this.rng = rng;
    this.std = std;
    this.fd = openSync(join(dir, DATA_FILE), 'w');
  }

  input(name: string, dims: Dim[], elem: 'float' | 'int64' = 'float'): string {
    this.inputs.push(fLen(11, valueInfo(name, elem === 'float' ? FLOAT : INT64, dims)));
    return name;
  }

  output(name: string, dims: Dim[]): void {
    this.outputs.push(fLen(12, valueInfo(name, FLOAT, dims)));
  }

  /** A trained parameter: random (std 0.02), 'ones' (norm scales) or 'zeros' (biases). */
  weight(name: string, dims: number[], fill: 'random' | 'ones' | 'zeros' = 'random'): string {
    const n = dims.reduce((a, b) => a * b, 1);
    this.params += n;
    const data = new Float32Array(n);
    if (fill === 'random') this.rng.fill(data, this.std);
    else if (fill === 'ones') data.fill(1);
    this.tensor(name, dims, FLOAT, new Uint8Array(data.buffer));
    return name;
  }

  /** A float constant (not a parameter). */
  constF(values: number[] | Float32Array, dims: number[] = [values.length]): string {
    const name = `onnx::Constant_${this.counter++}`;
    this.tensor(name, dims, FLOAT, new Uint8Array(Float32Array.from(values).buffer));
    return name;
  }

  /** An int64 constant (shapes, axes, indices). */
  constI(values: number[], dims: number[] = [values.length]): string {
    const name = `onnx::Constant_${this.counter++}`;
    this.tensor(name, dims, INT64, new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer));
    return name;
  }

  /** One node; returns its output names (`outputs` of them, named after the node). */
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, wanted = `/${op}`, outputs = 1): string[] {
    let name = wanted;
    for (let i = 1; this.names.has(name); i++) name = `${wanted}_${i}`; // torch numbers repeats the same way
    this.names.add(name);
    const outs = Array.from({ length: outputs }, (_, i) => `${name}_output_${i}`);
    this.nodes.push(fLen(1, [
      ...inputs.flatMap((i) => fStr(1, i)), ...outs.flatMap((o) => fStr(2, o)), ...fStr(3, name), ...fStr(4, op),
      ...Object.entries(attrs).flatMap(([k, v]) => fLen(5, attribute(k, v))),
    ]));
    return outs;
  }

  /** A one-output node. */
  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}, name?: string): string {
    return this.node(op, inputs, attrs, name)[0]!;
  }

  /** Renames the value `from` to the graph output `to` (an Identity node, as torch emits). */
  finishOutput(from: string, to: string, dims: Dim[]): void {
    this.nodes.push(fLen(1, [...fStr(1, from), ...fStr(2, to), ...fStr(3, `/Identity_${to}`), ...fStr(4, 'Identity')]));
    this.output(to, dims);
  }

  /** Writes model.onnx (opset 17, IR 8) and closes model.onnx_data. */
  finish(): void {
    closeSync(this.fd);
    const graph = concat([...this.nodes, fStr(2, this.name), ...this.inits, ...this.inputs, ...this.outputs]);
    const model = concat([
      fVar(1, 8), fStr(2, 'pytorch'), fStr(3, '2.1.0'),
      fLen(8, [...fStr(1, ''), ...fVar(2, 17)]),
      [...varint(7 * 8 + 2), ...varint(graph.length)], // field 7 (graph), written after this header
    ]);
    const file = new Uint8Array(model.length + graph.length);
    file.set(model);
    file.set(graph, model.length);
    writeFileSync(join(this.dir, 'model.onnx'), file);
  }

  private tensor(name: string, dims: number[], type: number, bytes: Uint8Array): void {
    const head = [...dims.flatMap((d) => fVar(1, d)), ...fVar(2, type), ...fStr(8, name)];
    if (bytes.length <= 1024) {
      this.inits.push(fLen(5, [...head, ...fLen(9, bytes)]));
      return;
    }
    const start = Math.ceil(this.offset / ALIGN) * ALIGN;
    if (start > this.offset) writeSync(this.fd, new Uint8Array(start - this.offset));
    for (let o = 0; o < bytes.length; o += 1 << 30) writeSync(this.fd, bytes.subarray(o, Math.min(bytes.length, o + (1 << 30))));
    this.offset = start + bytes.length;
    const entry = (k: string, v: string) => fLen(13, [...fStr(1, k), ...fStr(2, v)]);
    this.inits.push(fLen(5, [...head, ...entry('location', DATA_FILE), ...entry('offset', String(start)), ...entry('length', String(bytes.length)), ...fVar(14, 1)]));
  }
}

