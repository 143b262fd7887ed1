// How close the engine must come to the diffusers goldens (test/fixtures/parity/pipelines).
// Measured on every golden, both with the recorded noise replayed and with TorchGenerator from the
// seed (2026-12, x86-64 CPU, onnxruntime-node CPU EP): latents at most 3.2e-6 relative to the
// largest latent (worst: img2img_sd15_dpmpp2m_128x96, per step; final 2.7e-6), the first UNet input
// 2.5e-6, images at most 1/255 per channel (rounding of values that land on .5). The bounds below
// keep a ~3x margin for other CPUs' float summation order, and no more: a real regression (a wrong
// sigma, a missed draw) moves latents by 1e-3 or more.
export const LATENTS_TOLERANCE = 1e-5;
export const UNET_INPUT_TOLERANCE = 1e-5;
/** Per channel, in 1/255 steps. */
export const IMAGE_TOLERANCE = 1;
