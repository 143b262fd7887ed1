export type { RgbImage, GrayImage, ResizeMode } from './types.ts';
export { ImageInputError, type ImageErrorCode } from './errors.ts';
export { decodeInputImage, SUPPORTED_INPUT_FORMATS, ALLOWED_LOADERS, type DecodeLimits } from './decode.ts';
export { sniffFormat, type AcceptedFormat } from './magic.ts';
export { fitImage, defaultSizeFor } from './fit.ts';
export { decodeMask, blurMask, grayToRgb, type DecodeMaskOptions } from './mask.ts';
export { applyOverlay } from './overlay.ts';
export {
  maskBoundingBox, getCropRegion, expandCropRegion, inpaintCropRegion, cropImage, cropAndFit, pasteRegion, type CropRegion,
} from './mask-crop.ts';
export { encodeImage, CONTENT_TYPES, type OutputFormat, type EncodeOptions } from './encode.ts';
export { formatParameters, type GenerationParameters } from './parameters.ts';
export { readPngText, insertPngText } from './png-text.ts';
export { provenanceXmp, digitalSourceTypeOf, DIGITAL_SOURCE_TYPE, type ProvenanceInfo } from './provenance.ts';
export { embedWatermark, detectWatermark, DEFAULT_WATERMARK_SCALES, textBits, uint32Bits, bitsToText, bitsToUint32, type WatermarkOptions } from './watermark.ts';
export { parseWatermarkPayload, formatWatermarkBits, type WatermarkPayload } from './watermark-payload.ts';
