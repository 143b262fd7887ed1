/**
 * Parses a C99 hexadecimal float literal ("-0x1.921fb54442d18p-1"), which JavaScript lacks, so
 * constants copied from C sources keep their exact bits.
 */
export function hexFloat(literal: string): number {
  const m = /^([+-]?)0x([0-9a-f]+)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(literal);
  if (!m) throw new Error(`hexFloat: not a hex float literal: ${literal}`);
  const fraction = m[3] ?? '';
  // The digits hold at most 53 significant bits in our constants, so the BigInt converts exactly.
  const mantissa = Number(BigInt('0x' + m[2] + fraction));
  const value = mantissa * 2 ** (Number(m[4]) - 4 * fraction.length);
  return m[1] === '-' ? -value : value;
}
