/** 8-bit RGB, rows top to bottom, pixels interleaved (HWC): the engine's `RgbImage`. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** 8-bit single channel (HW): the engine's `MaskImage`. 255 = repaint, 0 = keep. */
export interface GrayImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export type ResizeMode = 'resize' | 'crop' | 'fill';
