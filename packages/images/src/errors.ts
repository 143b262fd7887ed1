// Bad user images: the API turns these into 400 (413 for `image_too_large` bytes) using `code`.

export type ImageErrorCode = 'image_invalid' | 'image_too_large' | 'image_unsupported_format' | 'mask_size_mismatch';

export class ImageInputError extends Error {
  override name = 'ImageInputError';
  readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
