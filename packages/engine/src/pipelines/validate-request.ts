/** Request checks against the model, with messages a user can act on. */
import { checkSize, type ModelInfo } from '../models/model-info.ts';
import { SDXL_REQUEST_FIELDS, type GenerateRequest } from './types.ts';

export function validateRequest(info: ModelInfo, req: GenerateRequest): void {
  if (!info.capabilities.includes(req.mode)) {
    throw new RangeError(`model ${info.id} cannot run ${req.mode} (it supports ${info.capabilities.join(', ')})`);
  }
  const size = checkSize(info, req.width, req.height);
  if (size) throw new RangeError(size);
  if (!Number.isInteger(req.steps) || req.steps < 1) throw new RangeError('steps must be a positive integer');
  if (!Number.isInteger(req.numImages) || req.numImages < 1) throw new RangeError('numImages must be a positive integer');
  if (!Number.isSafeInteger(req.seed) || req.seed < 0) throw new RangeError('seed must be a non-negative safe integer');
  if (!Number.isFinite(req.guidanceScale)) throw new RangeError('guidanceScale must be a number');
  validateSdxlFields(info, req);
  if (req.mode === 'txt2img') return;
  const s = req.strength ?? 1;
  if (!(s > 0 && s <= 1)) throw new RangeError('strength must be in (0, 1]');
  const img = req.initImage;
  if (!img) throw new RangeError(`${req.mode} needs initImage`);
  if (img.width !== req.width || img.height !== req.height || img.data.length !== img.width * img.height * 3) {
    throw new RangeError(`initImage must be ${req.width}×${req.height} RGB (got ${img.width}×${img.height}, ${img.data.length} bytes)`);
  }
  if (req.mode !== 'inpaint') return;
  const m = req.maskImage;
  if (!m) throw new RangeError('inpaint needs maskImage');
  if (m.width !== req.width || m.height !== req.height || m.data.length !== m.width * m.height) {
    throw new RangeError(`maskImage must be ${req.width}×${req.height} gray (got ${m.width}×${m.height}, ${m.data.length} bytes)`);
  }
}

function validateSdxlFields(info: ModelInfo, req: GenerateRequest): void {
  for (const field of SDXL_REQUEST_FIELDS) {
    if (req[field] === undefined) continue;
    if (!info.sdxl) throw new RangeError(`${field} is for SDXL models only (model ${info.id} is ${info.kind})`);
  }
  for (const field of ['originalSize', 'targetSize', 'negativeOriginalSize', 'negativeTargetSize'] as const) {
    const s = req[field];
    if (s && !(Number.isInteger(s.width) && Number.isInteger(s.height) && s.width > 0 && s.height > 0)) {
      throw new RangeError(`${field} must have positive integer width and height`);
    }
  }
  for (const field of ['cropsCoordsTopLeft', 'negativeCropsCoordsTopLeft'] as const) {
    const c = req[field];
    if (c && !(Number.isInteger(c.top) && Number.isInteger(c.left) && c.top >= 0 && c.left >= 0)) {
      throw new RangeError(`${field} must have non-negative integer top and left`);
    }
  }
  for (const field of ['aestheticScore', 'negativeAestheticScore'] as const) {
    const v = req[field];
    if (v !== undefined && !Number.isFinite(v)) throw new RangeError(`${field} must be a number`);
  }
}
