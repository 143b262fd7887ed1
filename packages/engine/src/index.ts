/** @sdsvc/engine: Stable Diffusion on ONNX Runtime (see docs/ARCHITECTURE.md). */
export { EngineHost, EngineThreadDiedError, type EngineHostOptions, type EngineSupervision, type HostGenerateOptions } from './runtime/engine-host.ts';
export { StableDiffusionPipeline, type PipelineLoadOptions } from './pipelines/stable-diffusion-pipeline.ts';
export { SDXL_REQUEST_FIELDS, type GenerateMode, type GenerateOptions, type GenerateRequest, type GenerateResult, type MaskImage, type RgbImage, type ImageSize, type CropCoords } from './pipelines/types.ts';
export { abortError } from './pipelines/abort.ts';
export type { PreviewImage, PreviewOptions } from './preview/step-previewer.ts';
export { SD_LATENT_RGB, SDXL_LATENT_RGB, latentsToRgb } from './preview/latent-rgb.ts';
export { TAESD_PATH } from './preview/preview-decoders.ts';
export type { EngineLora } from './pipelines/types.ts';
export { LoraPipelineCache, loraSetKey, DEFAULT_LORA_PIPELINES_MAX } from './runtime/lora-pipelines.ts';
export {
  readModelInfo, listModels, scanModels, checkSize, ModelFolderError, UnsupportedModelError,
  SDXL_DEFAULT_STRENGTH, SDXL_DEFAULT_AESTHETIC_SCORE,
  type ModelInfo, type ModelKind, type Capability, type ModelProblem, type ModelScan, type SdxlInfo,
} from './models/model-info.ts';
export type { ExecutionProviderName, SessionConfig } from './models/onnx-session.ts';
export { TorchGenerator } from './random/torch-generator.ts';
export { randnTensor, type NoiseGenerator } from './random/noise-generator.ts';
export { ClipTokenizer } from './text/clip-tokenizer.ts';
export { createScheduler, SCHEDULER_NAMES, UnknownSchedulerError } from './schedulers/registry.ts';
export type { Scheduler } from './schedulers/types.ts';
export type { RunTextEncoder, PromptEmbeddings, EncodePromptPairFn } from './text/text-encoder-fn.ts';
export type { Latents } from './tensor.ts';
