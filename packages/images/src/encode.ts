// Encode generated images. PNGs carry the generation parameters in a `parameters` text chunk
// (A1111's convention); JPEG and WebP are written without metadata.
import sharp from 'sharp';
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
      return input.webp({ quality }).toBuffer();
    case 'jpeg':
      return input.jpeg({ quality }).toBuffer();
  }
}
