/**
 * The safetensors format: 8-byte little-endian header length N, N bytes of JSON header
 * ({name: {dtype, shape, data_offsets: [begin, end]}} + optional "__metadata__"), then the raw
 * little-endian tensors, offsets relative to the end of the header. Every tensor is decoded to
 * float32; anything malformed is a LoraFormatError, never a crash or an out-of-bounds read.
 */
import { LoraFormatError } from './errors.ts';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export interface Tensor {
  shape: number[];
  /** The file's dtype; `data` is always float32. */
  dtype: SafetensorsDtype;
  data: Float32Array;
}

export interface Safetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

const ITEM_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };
/** A header beyond this is not a LoRA (the reference implementation caps it at 100 MB too). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function decode(bytes: Uint8Array, dtype: SafetensorsDtype, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (dtype === 'F16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  } else {
    // bfloat16 is the top half of a float32.
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) u32[i] = view.getUint16(i * 2, true) << 16;
  }
  return out;
}

function isDims(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** The length prefix: how many header bytes follow the first 8. */
export function headerLength(first8: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || first8.byteLength < 8) throw new LoraFormatError(`not a safetensors file: ${fileSize} bytes, shorter than the 8-byte header length`);
  const headerLen = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (headerLen > fileSize - 8) {
    throw new LoraFormatError(`safetensors header says ${headerLen} bytes but the file has only ${fileSize - 8} after the length`);
  }
  if (headerLen > MAX_HEADER_BYTES) throw new LoraFormatError(`safetensors header of ${headerLen} bytes is too large`);
  return headerLen;
}

export interface TensorEntry { dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }

/**
 * The header, checked against the file size: `prefix` holds at least the first 8 + N bytes of a
 * file of `fileSize` bytes. Offsets are relative to the data, which starts at 8 + N.
 */
export function parseHeader(prefix: Uint8Array, fileSize: number): { entries: Map<string, TensorEntry>; metadata: Record<string, string>; dataStart: number } {
  const headerLen = headerLength(prefix, fileSize);
  if (prefix.byteLength < 8 + headerLen) throw new LoraFormatError('safetensors header is cut short');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(8, 8 + headerLen)));
  } catch (err) {
    throw new LoraFormatError(`safetensors header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new LoraFormatError('safetensors header is not a JSON object');
  }
  const dataBytes = fileSize - 8 - headerLen;
  const entries = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new LoraFormatError('__metadata__ is not an object', name);
      metadata = Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, String(v)]));
      continue;
    }
    if (typeof entry !== 'object' || entry === null) throw new LoraFormatError(`tensor ${name}: header entry is not an object`, name);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
      throw new LoraFormatError(`tensor ${name}: dtype ${JSON.stringify(dtype)} is not supported (F32, F16 or BF16)`, name);
    }
    if (!isDims(shape)) throw new LoraFormatError(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of sizes`, name);
    if (!isDims(offsets) || offsets.length !== 2 || offsets[0]! > offsets[1]!) {
      throw new LoraFormatError(`tensor ${name}: data_offsets ${JSON.stringify(offsets)} are not [begin, end]`, name);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataBytes) {
      throw new LoraFormatError(`tensor ${name}: data_offsets [${begin}, ${end}] lie outside the ${dataBytes} data bytes`, name);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * ITEM_BYTES[dtype]) {
      throw new LoraFormatError(`tensor ${name}: ${end - begin} bytes do not hold ${dtype} ${JSON.stringify(shape)} (${count * ITEM_BYTES[dtype]} bytes)`, name);
    }
    entries.set(name, { dtype, shape, begin, end });
  }
  return { entries, metadata, dataStart: 8 + headerLen };
}

/**
 * A whole file, every tensor decoded to float32. With `shapesOnly`, `bytes` may be just the
 * header prefix of a `fileSize`-byte file and tensors come back with empty data (shape checks).
 */
export function parseSafetensors(bytes: Uint8Array, opts: { shapesOnly?: boolean; fileSize?: number } = {}): Safetensors {
  const { entries, metadata, dataStart } = parseHeader(bytes, opts.fileSize ?? bytes.byteLength);
  const tensors = new Map<string, Tensor>();
  for (const [name, e] of entries) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    const data = opts.shapesOnly ? new Float32Array(0) : decode(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, count);
    tensors.set(name, { shape: e.shape, dtype: e.dtype, data });
  }
  return { tensors, metadata };
}
