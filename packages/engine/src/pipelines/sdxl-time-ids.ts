/**
 * SDXL micro-conditioning: the `time_ids` rows of diffusers 0.27.2's _get_add_time_ids.
 * Sizes are (height, width), crops (top, left); defaults are the output size and (0, 0).
 * - StableDiffusionXLPipeline (txt2img): positive = original + crops + target; the negative row
 *   is negative_original + negative_crops + negative_target only when both negative sizes are
 *   given, else the positive row.
 * - Img2Img / Inpaint pipelines: negative = (negative_original or original) + the *positive* crops
 *   + (negative_target or target). A UNet with requires_aesthetics_score (refiners) takes
 *   original + crops + aesthetic_score instead, negative_original + negative_crops +
 *   negative_aesthetic_score for the negative row; it is used whatever the mode, since the UNet's
 *   time embedding is sized for it.
 */
import { SDXL_DEFAULT_AESTHETIC_SCORE, type ModelInfo } from '../models/model-info.ts';
import type { GenerateRequest, ImageSize } from './types.ts';

export interface SdxlTimeIds {
  cond: Float32Array;
  uncond: Float32Array;
  width: number;
}

const hw = (s: ImageSize): [number, number] => [s.height, s.width];

export function sdxlTimeIds(info: ModelInfo, req: GenerateRequest): SdxlTimeIds {
  const own = { width: req.width, height: req.height };
  const original = req.originalSize ?? own;
  const target = req.targetSize ?? own;
  const crops = req.cropsCoordsTopLeft ?? { top: 0, left: 0 };
  const negCrops = req.negativeCropsCoordsTopLeft ?? { top: 0, left: 0 };
  let cond: number[];
  let uncond: number[];
  if (info.sdxl?.requiresAestheticsScore) {
    cond = [...hw(original), crops.top, crops.left, req.aestheticScore ?? SDXL_DEFAULT_AESTHETIC_SCORE.positive];
    uncond = [...hw(req.negativeOriginalSize ?? original), negCrops.top, negCrops.left,
      req.negativeAestheticScore ?? SDXL_DEFAULT_AESTHETIC_SCORE.negative];
  } else {
    cond = [...hw(original), crops.top, crops.left, ...hw(target)];
    if (req.mode === 'txt2img') {
      uncond = req.negativeOriginalSize && req.negativeTargetSize
        ? [...hw(req.negativeOriginalSize), negCrops.top, negCrops.left, ...hw(req.negativeTargetSize)]
        : cond;
    } else {
      uncond = [...hw(req.negativeOriginalSize ?? original), crops.top, crops.left, ...hw(req.negativeTargetSize ?? target)];
    }
  }
  return { cond: Float32Array.from(cond), uncond: Float32Array.from(uncond), width: cond.length };
}
