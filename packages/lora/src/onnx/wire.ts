/**
 * Just enough of the protobuf wire format to walk an ONNX file without loading it: a cursor over
 * a file read through a moving window, so multi-gigabyte raw_data fields are skipped, not read.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

export class OnnxFormatError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: not a readable ONNX model (${message})`);
    this.name = 'OnnxFormatError';
  }
}

const WINDOW = 1 << 20;

/** Random-access reads of one file through a 1 MiB window. */
export class FileBytes {
  readonly file: string;
  readonly size: number;
  private readonly fd: number;
  private buf = new Uint8Array(0);
  private start = 0;

  constructor(file: string) {
    this.file = file;
    this.fd = openSync(file, 'r');
    this.size = fstatSync(this.fd).size;
  }

  /** `n` bytes at `pos` (a view valid until the next call). */
  bytes(pos: number, n: number): Uint8Array {
    if (pos < 0 || pos + n > this.size) throw new OnnxFormatError(this.file, `field at byte ${pos} runs past the end of the file`);
    if (pos < this.start || pos + n > this.start + this.buf.length) {
      const len = Math.min(Math.max(n, WINDOW), this.size - pos);
      this.buf = new Uint8Array(len);
      let got = 0;
      while (got < len) got += readSync(this.fd, this.buf, got, len - got, pos + got);
      this.start = pos;
    }
    return this.buf.subarray(pos - this.start, pos - this.start + n);
  }

  byte(pos: number): number {
    return this.bytes(pos, 1)[0]!;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** One field of a message: number, wire type, and where its value lies. */
export interface Field {
  no: number;
  wire: number;
  /** varint value (WIRE_VARINT) — exact up to 2^53. */
  value: number;
  /** value bytes (WIRE_LEN: the payload without its length prefix). */
  start: number;
  end: number;
}

export class Cursor {
  readonly src: FileBytes;
  pos: number;
  readonly end: number;
  constructor(src: FileBytes, start: number, end: number) {
    this.src = src;
    this.pos = start;
    this.end = end;
  }

  varint(): number {
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OnnxFormatError(this.src.file, `varint runs past its message at byte ${this.pos}`);
      const b = this.src.byte(this.pos++);
      value += (b & 0x7f) * mul;
      if (!(b & 0x80)) return value;
      mul *= 128;
    }
    throw new OnnxFormatError(this.src.file, `varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** The next field, or null at the end of the message. */
  next(): Field | null {
    if (this.pos >= this.end) return null;
    const tag = this.varint();
    const no = Math.floor(tag / 8);
    const wire = tag % 8;
    const start = this.pos;
    let value = 0;
    if (wire === WIRE_VARINT) value = this.varint();
    else if (wire === WIRE_I64) this.pos += 8;
    else if (wire === WIRE_I32) this.pos += 4;
    else if (wire === WIRE_LEN) {
      const len = this.varint();
      const s = this.pos;
      this.pos += len;
      if (this.pos > this.end) throw new OnnxFormatError(this.src.file, `field ${no} of ${len} bytes runs past its message`);
      return { no, wire, value: len, start: s, end: this.pos };
    } else throw new OnnxFormatError(this.src.file, `unsupported wire type ${wire} at byte ${start}`);
    if (this.pos > this.end) throw new OnnxFormatError(this.src.file, `field ${no} runs past its message`);
    return { no, wire, value, start, end: this.pos };
  }

  sub(f: Field): Cursor {
    return new Cursor(this.src, f.start, f.end);
  }

  string(f: Field): string {
    return new TextDecoder().decode(this.src.bytes(f.start, f.end - f.start));
  }
}
