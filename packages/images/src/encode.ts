// Encode generated images with the generation parameters where A1111 puts them: PNG in a
// `parameters` text chunk; JPEG and WebP in EXIF UserComment (libvips writes it with the ASCII
// charset prefix, which A1111's reader accepts; non-ASCII characters are transliterated there, so
// PNG is the lossless record).
import sharp, { type Sharp } from 'sharp';
import { insertPngChunks, itxtChunk, textChunk } from './png-text.ts';
import { provenanceXmp, type ProvenanceInfo } from './provenance.ts';
import type { RgbImage } from './types.ts';

export type OutputFormat = 'png' | 'webp' | 'jpeg';

export interface EncodeOptions {
  format: OutputFormat;
  /** 1–100 for jpeg/webp (default 90); ignored for png (lossless). */
  quality?: number;
  /** Text for the PNG `parameters` chunk (see formatParameters). */
  parameters?: string;
  /** XMP declaring the image AI-generated (IPTC DigitalSourceType); on unless false. */
  provenance?: ProvenanceInfo | false;
}

export const CONTENT_TYPES: Record<OutputFormat, string> = { png: 'image/png', webp: 'image/webp', jpeg: 'image/jpeg' };

export async function encodeImage(img: RgbImage, options: EncodeOptions): Promise<Buffer> {
  if (img.data.length !== img.width * img.height * 3) {
    throw new RangeError(`encodeImage: ${img.data.length} bytes for ${img.width}×${img.height} RGB`);
  }
  const input = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  const quality = Math.min(100, Math.max(1, Math.round(options.quality ?? 90)));
  const xmp = options.provenance === false ? undefined : provenanceXmp(options.provenance);
  switch (options.format) {
    case 'png': {
      const png = await input.png({ compressionLevel: 6 }).toBuffer();
      const chunks: Buffer[] = [];
      if (options.parameters !== undefined) chunks.push(textChunk('parameters', options.parameters));
      if (xmp !== undefined) chunks.push(itxtChunk('XML:com.adobe.xmp', xmp));
      return chunks.length > 0 ? insertPngChunks(png, chunks) : png;
    }
    case 'webp':
      return withXmp(withUserComment(input, options.parameters), xmp).webp({ quality }).toBuffer();
    case 'jpeg':
      return withXmp(withUserComment(input, options.parameters), xmp).jpeg({ quality }).toBuffer();
  }
}

function withXmp(pipeline: Sharp, xmp: string | undefined): Sharp {
  return xmp === undefined ? pipeline : pipeline.withXmp(xmp);
}

function withUserComment(pipeline: Sharp, text: string | undefined): Sharp {
  return text === undefined ? pipeline : pipeline.withExif({ IFD2: { UserComment: text } });
}
