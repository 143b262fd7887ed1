// POST /v1/images/edits multipart → fields + the image and mask bytes. `image` or `image[]` (the
// first is used), `mask` in OpenAI's convention (transparent = edit) turned into ours (white =
// repaint) so the job service reads it like any mask.
import type { FastifyRequest } from 'fastify';
import sharp from 'sharp';
import { fieldProblem, HttpProblem, validationProblem } from '@sdsvc/contracts';

export interface EditUpload {
  fields: Record<string, unknown>;
  image: Buffer;
  mask: Buffer | null;
}

const IMAGE_PARTS = new Set(['image', 'image[]']);

export async function readEditUpload(req: FastifyRequest, maxImageBytes: number): Promise<EditUpload> {
  if (!req.isMultipart()) throw new HttpProblem(415, 'unsupported_media_type', 'send multipart/form-data with an image file part');
  const fields: Record<string, unknown> = {};
  let image: Buffer | null = null;
  let mask: Buffer | null = null;
  const parts = req.parts({ limits: { fileSize: maxImageBytes, files: 18, fields: 64, fieldSize: 1024 * 1024 } });
  for await (const part of parts) {
    if (part.type === 'file') {
      const known = IMAGE_PARTS.has(part.fieldname) || part.fieldname === 'mask';
      const buf = known ? await part.toBuffer() : (part.file.resume(), null);
      if (part.file.truncated) throw fieldProblem(413, 'image_too_large', part.fieldname, `${part.fieldname} is larger than ${maxImageBytes} bytes`);
      if (!buf) continue; // unknown file parts are ignored, like unknown fields
      if (part.fieldname === 'mask') mask = buf;
      else image ??= buf;
    } else {
      fields[part.fieldname] = String(part.value);
    }
  }
  if (!image) throw validationProblem([{ path: 'init_image', code: 'required', message: 'an image file part (image or image[]) is required' }]);
  return { fields, image, mask: mask ? await openaiMaskToOurs(mask) : null };
}

/** Alpha (0 = edit here) → a gray PNG where white = repaint. A mask without alpha is refused, as OpenAI does. */
async function openaiMaskToOurs(buf: Buffer): Promise<Buffer> {
  let meta;
  try {
    meta = await sharp(buf).metadata();
  } catch {
    throw fieldProblem(400, 'image_invalid', 'mask_image', 'mask is not a readable image');
  }
  if (!meta.hasAlpha) throw fieldProblem(400, 'image_invalid', 'mask_image', 'mask must be a PNG with an alpha channel: its transparent pixels mark the area to edit');
  const { data, info } = await sharp(buf).ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true });
  for (let i = 0; i < data.length; i++) data[i] = 255 - data[i];
  return await sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } }).png().toBuffer();
}
