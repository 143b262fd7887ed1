// Input images: read from base64 / data URL / https URL / multipart file, decoded and checked at
// submission (bad images fail fast with a 4xx), then stored as PNG under
// `<prefix>/<job id>/inputs/<name>.png` so a worker on any host can read them.
import { decodeInputImage, decodeMask, encodeImage, grayToRgb, ImageInputError, type RgbImage } from '@sdsvc/images';
import type { ImageField, InputImageRef } from '@sdsvc/contracts';
import { isStorageError, type ObjectStore } from '@sdsvc/storage';
import type { ImageFetcher } from './deps.ts';
import { fieldProblem, HttpProblem } from '@sdsvc/contracts';
import { FILE_PART } from './fingerprint.ts';

export interface ImageLimits { maxBytes: number; maxPixels: number; allowHttp: boolean }

const DATA_URL = /^data:([a-z0-9.+-]+\/[a-z0-9.+-]+)?((?:;[^,;]*)*?);base64,(.*)$/is;
const BASE64 = /^[A-Za-z0-9+/_\-\s]+={0,2}\s*$/;

function fromBase64(field: string, b64: string, limits: ImageLimits): Buffer {
  if (!BASE64.test(b64)) throw fieldProblem(400, 'image_invalid', field, `${field} is not base64, a data: URL or an https URL`);
  // 4 base64 characters carry 3 bytes: refuse oversize input before allocating it.
  if (Math.floor((b64.length * 3) / 4) > limits.maxBytes + 3) {
    throw fieldProblem(413, 'image_too_large', field, `${field} is larger than ${limits.maxBytes} bytes`);
  }
  const buf = Buffer.from(b64, 'base64');
  if (buf.length === 0) throw fieldProblem(400, 'image_invalid', field, `${field} is empty`);
  return buf;
}

/** Maps fetcher errors (typed by `code`) to problems. */
function fetchProblem(field: string, err: unknown): HttpProblem {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'url_not_allowed') return fieldProblem(400, 'url_not_allowed', field, `${field}: ${message}`);
  if (code === 'image_too_large' || code === 'too_large' || code === 'response_too_large') {
    return fieldProblem(413, 'image_too_large', field, `${field}: ${message}`);
  }
  return fieldProblem(400, 'image_fetch_failed', field, `${field}: ${message}`);
}

/** The bytes behind an image field. */
export async function readImageSource(field: string, value: string, file: Buffer | undefined, fetchImage: ImageFetcher, limits: ImageLimits): Promise<Buffer> {
  if (value === FILE_PART && file) return file;
  const dataUrl = DATA_URL.exec(value);
  if (dataUrl) return fromBase64(field, dataUrl[3], limits);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    const scheme = value.slice(0, value.indexOf(':')).toLowerCase();
    if (scheme !== 'https' && !(scheme === 'http' && limits.allowHttp)) {
      throw fieldProblem(400, 'url_not_allowed', field, `${field}: only https URLs are accepted`);
    }
    try {
      return await fetchImage(value);
    } catch (err) {
      throw fetchProblem(field, err);
    }
  }
  return fromBase64(field, value, limits);
}

function imageProblem(field: string, err: unknown): unknown {
  if (!(err instanceof ImageInputError)) return err;
  if (err.code === 'image_too_large') return fieldProblem(413, 'image_too_large', field, `${field}: ${err.message}`);
  if (err.code === 'mask_size_mismatch') return fieldProblem(400, 'mask_size_mismatch', field, err.message);
  return new HttpProblem(400, 'image_invalid', `${field}: ${err.message}`, { errors: [{ path: field, code: err.code, message: err.message }] });
}

export async function decodeImage(field: ImageField, buf: Buffer, limits: ImageLimits): Promise<RgbImage> {
  try {
    return await decodeInputImage(buf, { maxBytes: limits.maxBytes, maxPixels: limits.maxPixels });
  } catch (err) {
    throw imageProblem(field, err);
  }
}

/** Mask read with the images package's conventions (alpha-only masks, luma), at the image's size. */
export async function decodeMaskAt(buf: Buffer, size: { width: number; height: number }, limits: ImageLimits): Promise<RgbImage> {
  try {
    const gray = await decodeMask(buf, { ...size, imageSize: size, maxPixels: limits.maxPixels, maxBytes: limits.maxBytes, resizeMode: 'resize' });
    return await grayToRgb(gray); // in libvips, off the event loop
  } catch (err) {
    throw imageProblem('mask_image', err);
  }
}

export function inputKey(store: ObjectStore, jobId: string, field: ImageField): string {
  const tail = `${jobId}/inputs/${field}.png`;
  return store.keyPrefix ? `${store.keyPrefix}/${tail}` : tail;
}

export async function storeInput(store: ObjectStore, jobId: string, field: ImageField, img: RgbImage): Promise<InputImageRef> {
  const key = inputKey(store, jobId, field);
  // An input is the user's image, not a generated one: no AI-provenance XMP on it.
  const body = await encodeImage(img, { format: 'png', provenance: false });
  try {
    await store.put(key, body, 'image/png');
  } catch (err) {
    // An object-store outage is the service's, not the request's: a 503 the client can retry.
    if (isStorageError(err, 'storage_unavailable')) {
      throw new HttpProblem(503, 'storage_unavailable', 'the object store is unavailable; try again later', { headers: { 'retry-after': '5' } });
    }
    throw err;
  }
  return { key, width: img.width, height: img.height };
}
