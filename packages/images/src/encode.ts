// Encode generated images with the generation parameters where A1111 puts them: PNG in a
// `parameters` text chunk; JPEG and WebP in EXIF UserComment (libvips writes it with the ASCII
// charset prefix, which A1111's reader accepts; non-ASCII characters are transliterated there, so
// PNG is the lossless record).
import sharp, { type Sharp } from 'sharp';
import { insertPngText } from './png-text.ts';
import type { RgbImage } from './types.ts';

export type OutputFormat = 'png' | 'webp' | 'jpeg';

export interface EncodeOptions {
  format: OutputFormat;
  /** 1–100 for jpeg/webp (default 90); ignored for png (lossless). */
  quality?: number;
  /** Text for the PNG `parameters` chunk (see formatParameters). */
  parameters?: string;
}

export const CONTENT_TYPES: Record<OutputFormat, string> = { png: 'image/png', webp: 'image/webp', jpeg: 'image/jpeg' };

export async function encodeImage(img: RgbImage, options: EncodeOptions): Promise<Buffer> {
  if (img.data.length !== img.width * img.height * 3) {
    throw new RangeError(`encodeImage: ${img.data.length} bytes for ${img.width}×${img.height} RGB`);
  }
  const input = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  const quality = Math.min(100, Math.max(1, Math.round(options.quality ?? 90)));
  switch (options.format) {
    case 'png': {
      const png = await input.png({ compressionLevel: 6 }).toBuffer();
      return options.parameters === undefined ? png : insertPngText(png, 'parameters', options.parameters);
    }
    case 'webp':
      return withUserComment(input, options.parameters).webp({ quality }).toBuffer();
    case 'jpeg':
      return withUserComment(input, options.parameters).jpeg({ quality }).toBuffer();
  }
}

function withUserComment(pipeline: Sharp, text: string | undefined): Sharp {
  return text === undefined ? pipeline : pipeline.withExif({ IFD2: { UserComment: text } });
}
