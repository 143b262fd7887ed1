// The formats we accept, recognised by their first bytes BEFORE libvips sees the data: libvips
// has loaders for many more formats (SVG, TIFF, HEIF, PDF, FITS, …), each more attack surface, and
// picks one by sniffing. Anything that is not PNG, JPEG, WebP or GIF is refused here, and the other
// loaders are blocked process-wide (decode.ts) as a second line.

export type AcceptedFormat = 'png' | 'jpeg' | 'webp' | 'gif';

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(buf: Uint8Array, bytes: number[], at = 0): boolean {
  if (buf.byteLength < at + bytes.length) return false;
  return bytes.every((b, i) => buf[at + i] === b);
}

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** The accepted format the bytes are, or null. */
export function sniffFormat(buf: Uint8Array): AcceptedFormat | null {
  if (startsWith(buf, PNG)) return 'png';
  if (startsWith(buf, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(buf, ascii('RIFF')) && startsWith(buf, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(buf, ascii('GIF87a')) || startsWith(buf, ascii('GIF89a'))) return 'gif';
  return null;
}

/** Image formats libvips could read but we do not accept (a clearer error than "not an image"). */
export function sniffOtherImageFormat(buf: Uint8Array): string | null {
  const head = Buffer.from(buf.subarray(0, 256)).toString('latin1');
  if (head.startsWith('II*\0') || head.startsWith('MM\0*')) return 'tiff';
  if (/^\s*(<\?xml|<svg|<!DOCTYPE svg)/i.test(head)) return 'svg';
  if (head.slice(4, 8) === 'ftyp') return 'heif/avif';
  if (head.startsWith('%PDF')) return 'pdf';
  if (head.startsWith('BM')) return 'bmp';
  if (head.startsWith('\xff\x0a') || head.slice(4, 8) === 'JXL ') return 'jxl';
  if (head.slice(4, 8) === 'jP  ') return 'jp2';
  if (head.startsWith('8BPS')) return 'psd';
  return null;
}
