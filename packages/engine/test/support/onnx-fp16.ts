/**
 * Converts a float32 ONNX graph to float16, the way fp16 exports (optimum `--dtype fp16`) look
 * to the engine: float initializers and Constant tensors stored as halves (clamped to ±65504),
 * float graph inputs, outputs and value_info typed FLOAT16, and Cast-to-float retargeted to
 * float16. Inputs that ONNX requires in float32 whatever the data type (Resize/Upsample scales)
 * stay float32. A minimal protobuf reader/writer: each message is a list of fields, rewritten
 * where the schema matters and copied byte for byte elsewhere.
 */
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { varint } from '../../../../test/support/protobuf-writer.ts';

const FLOAT = 1;
const FLOAT16 = 10;
const HALF_MAX = 65504;

/** One field; `bytes` is the payload (wire 2), the fixed bytes (wires 1, 5) or the varint's own bytes (wire 0). */
interface Field { no: number; wire: number; value: number; bytes: Uint8Array }

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos++]!;
    value += (b & 0x7f) * mul;
    if (!(b & 0x80)) return [value, pos];
    mul *= 128;
  }
}

function decode(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p] = readVarint(buf, pos);
    pos = p;
    const no = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) {
      // Negative int64s are 10-byte varints past 2^53: kept as bytes so they re-encode exactly.
      const [v, q] = readVarint(buf, pos);
      out.push({ no, wire, value: v, bytes: buf.subarray(pos, q) });
      pos = q;
    } else if (wire === 2) {
      const [len, q] = readVarint(buf, pos);
      out.push({ no, wire, value: len, bytes: buf.subarray(q, q + len) });
      pos = q + len;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      out.push({ no, wire, value: 0, bytes: buf.subarray(pos, pos + n) });
      pos += n;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}


function encode(fields: readonly Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    parts.push(new Uint8Array(varint(f.no * 8 + f.wire)));
    if (f.wire === 0) parts.push(f.bytes);
    else if (f.wire === 2) { parts.push(new Uint8Array(varint(f.bytes.length))); parts.push(f.bytes); }
    else parts.push(f.bytes);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

const text = (f: Field) => new TextDecoder().decode(f.bytes);
const lenField = (no: number, bytes: Uint8Array): Field => ({ no, wire: 2, value: bytes.length, bytes });
const varField = (no: number, value: number): Field => ({ no, wire: 0, value, bytes: new Uint8Array(varint(value)) });

/** TensorProto (dims 1, data_type 2, float_data 4, name 8, raw_data 9): float → half raw_data. */
function tensorToHalf(bytes: Uint8Array): Uint8Array {
  const fields = decode(bytes);
  if (fields.find((f) => f.no === 2)?.value !== FLOAT) return bytes;
  if (fields.some((f) => f.no === 13)) throw new Error('external data is not supported by this converter');
  const chunks: Float32Array[] = [];
  for (const f of fields) {
    // raw_data, or float_data packed (wire 2) or one value per field (wire 5); copied to align.
    if (f.no === 9 || (f.no === 4 && f.wire !== 0)) chunks.push(new Float32Array(f.bytes.slice().buffer));
  }
  const halves = new Float16Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) halves[at + i] = Math.min(HALF_MAX, Math.max(-HALF_MAX, c[i]!));
    at += c.length;
  }
  const kept = fields.filter((f) => f.no !== 4 && f.no !== 9).map((f) => (f.no === 2 ? varField(2, FLOAT16) : f));
  return encode([...kept, lenField(9, new Uint8Array(halves.buffer))]);
}

/** ValueInfoProto (type 2 → TypeProto tensor_type 1 → elem_type 1): FLOAT → FLOAT16. */
function valueInfoToHalf(bytes: Uint8Array): Uint8Array {
  return encode(decode(bytes).map((f) => {
    if (f.no !== 2) return f;
    return lenField(2, encode(decode(f.bytes).map((t) => {
      if (t.no !== 1) return t;
      return lenField(1, encode(decode(t.bytes).map((e) => (e.no === 1 && e.value === FLOAT ? varField(1, FLOAT16) : e))));
    })));
  }));
}

/** Names of the inputs ONNX wants in float32 whatever T is (Resize's scales, Upsample's scales). */
function float32OnlyInputs(nodes: Field[]): Set<string> {
  const keep = new Set<string>();
  for (const n of nodes) {
    const fields = decode(n.bytes);
    const op = text(fields.find((f) => f.no === 4)!);
    const inputs = fields.filter((f) => f.no === 1).map(text);
    if (op === 'Resize' && inputs[2]) keep.add(inputs[2]);
    if (op === 'Upsample' && inputs[1]) keep.add(inputs[1]);
  }
  return keep;
}

/** NodeProto: Cast(to=FLOAT) → Cast(to=FLOAT16); float tensors in attributes (Constant, ConstantOfShape) → half. */
function nodeToHalf(bytes: Uint8Array, keep: Set<string>): Uint8Array {
  const fields = decode(bytes);
  const op = text(fields.find((f) => f.no === 4)!);
  const outputs = fields.filter((f) => f.no === 2).map(text);
  if (op === 'Constant' && outputs.some((o) => keep.has(o))) return bytes;
  return encode(fields.map((f) => {
    if (f.no !== 5) return f;
    const attr = decode(f.bytes);
    const name = text(attr.find((a) => a.no === 1)!);
    return lenField(5, encode(attr.map((a) => {
      if (op === 'Cast' && name === 'to' && a.no === 3 && a.value === FLOAT) return varField(3, FLOAT16);
      if (a.no === 5 || a.no === 10) return lenField(a.no, tensorToHalf(a.bytes)); // t / tensors
      if (a.no === 6 || a.no === 11) throw new Error(`${op}: subgraph attributes are not supported by this converter`);
      return a;
    })));
  }));
}

/** The float16 version of a float32 ModelProto. */
export function convertModelToFloat16(model: Uint8Array): Uint8Array {
  // A plain Uint8Array view: Buffer's slice() shares memory, and the copies below must not.
  return encode(decode(new Uint8Array(model.buffer, model.byteOffset, model.byteLength)).map((m) => {
    if (m.no !== 7) return m; // ModelProto.graph
    const graph = decode(m.bytes);
    const keep = float32OnlyInputs(graph.filter((g) => g.no === 1));
    return lenField(7, encode(graph.map((g) => {
      switch (g.no) {
        case 1: return lenField(1, nodeToHalf(g.bytes, keep));
        case 5: {
          const name = decode(g.bytes).find((f) => f.no === 8);
          return name && keep.has(text(name)) ? g : lenField(5, tensorToHalf(g.bytes));
        }
        case 11: case 12: case 13: return lenField(g.no, valueInfoToHalf(g.bytes));
        default: return g;
      }
    })));
  }));
}

/** A copy of the model folder `src` at `dst` with every component graph converted to float16. */
export function convertFolderToFloat16(src: string, dst: string): string[] {
  cpSync(src, dst, { recursive: true });
  const converted: string[] = [];
  for (const entry of readdirSync(dst, { withFileTypes: true })) {
    const file = join(dst, entry.name, 'model.onnx');
    if (!entry.isDirectory() || !existsSync(file)) continue;
    writeFileSync(file, convertModelToFloat16(readFileSync(file)));
    converted.push(entry.name);
  }
  return converted.sort();
}

const str = (no: number, s: string): Field => lenField(no, new TextEncoder().encode(s));

/** A float32 graph Y = X · S over a vector X of any length (S a one-element initializer). */
export function scaleGraph(scale: number): Uint8Array {
  const vector = (name: string) => encode([str(1, name), lenField(2, encode([lenField(1, encode([
    varField(1, FLOAT), lenField(2, encode([lenField(1, encode([str(2, 'n')]))])),
  ]))]))]);
  const node = encode([str(1, 'X'), str(1, 'S'), str(2, 'Y'), str(3, 'scale'), str(4, 'Mul')]);
  const s = encode([varField(1, 1), varField(2, FLOAT), str(8, 'S'), lenField(9, new Uint8Array(new Float32Array([scale]).buffer))]);
  const graph = encode([lenField(1, node), str(2, 'g'), lenField(5, s), lenField(11, vector('X')), lenField(12, vector('Y'))]);
  return encode([varField(1, 8), lenField(8, encode([str(1, ''), varField(2, 17)])), lenField(7, graph)]);
}
