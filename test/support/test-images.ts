// Small input images for img2img/inpaint tests, made with sharp (base64 PNG as the API takes them).
import sharp from 'sharp';

/** A width × height RGB gradient. */
export async function gradientPng(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = Math.round((255 * x) / (width - 1));
      data[i + 1] = Math.round((255 * y) / (height - 1));
      data[i + 2] = 128;
    }
  }
  return await sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** Black (keep) with a white (repaint) centred square covering half of each side. */
export async function centreSquareMaskPng(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height);
  for (let y = height / 4; y < (3 * height) / 4; y++) {
    for (let x = width / 4; x < (3 * width) / 4; x++) data[y * width + x] = 255;
  }
  return await sharp(data, { raw: { width, height, channels: 1 } }).png().toBuffer();
}
