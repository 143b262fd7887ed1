/** Messages between EngineHost (main thread) and the engine thread. */
import type { GenerateRequest, GenerateResult } from '../pipelines/types.ts';
import type { ExecutionProviderName } from '../models/onnx-session.ts';
import type { PreviewImage } from '../preview/step-previewer.ts';

export interface EngineThreadOptions {
  modelsDir: string;
  executionProviders?: ExecutionProviderName[];
  intraOpNumThreads?: number;
  enableCpuMemArena?: boolean;
  /** Warm each pipeline when it is first loaded (default true). */
  warmup?: boolean;
  /** WARMUP_SIZES: sizes warmed when a model loads (default: its native size; empty: none). */
  warmupSizes?: Array<{ width: number; height: number }>;
  /** MODEL_CACHE_MAX: base models kept loaded (default 2; least recently used released). */
  modelCacheMax?: number;
  /** MODEL_CACHE_BYTES: weight bytes kept loaded, models and LoRA copies together (0/absent: no byte limit). */
  modelCacheBytes?: number;
  rngKernel?: 'avx2' | 'default';
  /** LoRA-merged pipelines kept (least recently used released first; default 2). */
  loraPipelinesMax?: number;
}

export type ToEngine =
  | { type: 'generate'; id: number; modelId: string; request: GenerateRequest; cancel: SharedArrayBuffer; preview?: { everySteps: number } }
  /** Cross-request batch: one cancel flag per request. */
  | { type: 'generateBatch'; id: number; modelId: string; requests: GenerateRequest[]; cancels: SharedArrayBuffer[] }
  | { type: 'preload'; id: number; modelId: string }
  | { type: 'close' };

export interface SerializedError { name: string; message: string; stack?: string }

export type BatchOutcome = { result: GenerateResult } | { error: SerializedError };

export type FromEngine =
  /** `index`: the request of a batch this step belongs to. */
  | { type: 'progress'; id: number; step: number; total: number; index?: number }
  /** A live preview; `data` (HWC RGB) is transferred, not copied. */
  | { type: 'preview'; id: number; preview: PreviewImage }
  | { type: 'result'; id: number; result: GenerateResult }
  | { type: 'error'; id: number; error: SerializedError }
  /** A batch's outcome, one entry per request, in order (image buffers transferred). */
  | { type: 'batchResult'; id: number; results: BatchOutcome[] }
  | { type: 'log'; message: string }
  /** The provider each graph of a model runs on (graph folder → provider), once the model is loaded. */
  | { type: 'providers'; modelId: string; providers: Record<string, ExecutionProviderName> };
