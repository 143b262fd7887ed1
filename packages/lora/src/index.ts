/** @sdsvc/lora: read LoRA safetensors files (kohya, diffusers, PEFT) and merge them into ONNX graphs. */
export { LoraFormatError, LoraIncompatibleError, UnknownLoraError } from './errors.ts';
export { parseSafetensors, type Safetensors, type SafetensorsDtype, type Tensor } from './safetensors.ts';
export { readLora, summarize, classifyKey, type LoraAdapter, type LoraTarget, type LoraNaming, type LoraComponent } from './lora-file.ts';
export { loraDelta } from './delta.ts';
export { planMerge, type LoraApplication, type WeightPatch, type GraphIndexes } from './match.ts';
export { indexOnnxGraph, type OnnxGraphIndex, type InitializerInfo, type WeightNode } from './onnx/graph-index.ts';
export { patchGraph, type PatchedGraph } from './onnx/patch.ts';
export { OnnxFormatError } from './onnx/wire.ts';
export { LoraLibrary, loadLoraFile, isLoraId, loraFilePath, sha256Hex, LORA_EXTENSION, type LoraEntry, type LoadedLora } from './lora-dir.ts';
export { LoraUrlCache, type LoraFetcher } from './lora-url-cache.ts';
export { mergeLoras, checkLorasFit, modelGraphIndexes, LORA_COMPONENTS, type MergedModel } from './merge.ts';
