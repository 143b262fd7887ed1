// A minimal protobuf writer for tests that build tiny ONNX graphs by hand (no network, no
// onnx package): varints and length-delimited fields only, which is all ModelProto needs here.

export type Msg = number[];

export function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) { out.push((n % 128) | 128); n = Math.floor(n / 128); }
  out.push(n);
  return out;
}

/** Field `no` as a varint. */
export const fVar = (no: number, v: number): Msg => [...varint(no * 8), ...varint(v)];
/** Field `no` as length-delimited bytes (a sub-message, bytes or a string). */
export const fLen = (no: number, bytes: ArrayLike<number>): Msg => [...varint(no * 8 + 2), ...varint(bytes.length), ...Array.from(bytes)];
/** Field `no` as a UTF-8 string. */
export const fStr = (no: number, s: string): Msg => fLen(no, new TextEncoder().encode(s));
/** Field `no` as a signed int64 varint (negative values take ten bytes, as protobuf encodes them). */
export const fInt = (no: number, v: number): Msg => {
  if (v >= 0) return fVar(no, v);
  let u = BigInt.asUintN(64, BigInt(v));
  const out = varint(no * 8);
  while (u >= 128n) { out.push(Number(u % 128n) | 128); u /= 128n; }
  out.push(Number(u));
  return out;
};
/** Field `no` as a 32-bit float (wire type 5). */
export const fFloat = (no: number, v: number): Msg => [...varint(no * 8 + 5), ...new Uint8Array(new Float32Array([v]).buffer)];
