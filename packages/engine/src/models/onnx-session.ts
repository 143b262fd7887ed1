/**
 * Creating ONNX Runtime sessions: execution providers as an explicit policy (EXECUTION_PROVIDERS:
 * tried in the order listed, per graph; a provider that fails falls back only to the next one
 * *listed*, so CPU is used only when listed; the provider each graph runs on is logged), full graph
 * optimisation, one intra-op thread per core, the CPU memory arena switchable. External weights
 * (model.onnx_data or whatever name the graph references) are resolved by ORT relative to the
 * model path, so the path is passed as a file name; only LoRA-merged copies come as bytes, with
 * their external data files in memory.
 */
import { availableParallelism } from 'node:os';
import { access } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { ModelFolderError } from './model-info.ts';

export type ExecutionProviderName = 'cpu' | 'cuda' | 'webgpu' | 'dml' | 'coreml';

export interface SessionConfig {
  /** Tried in order, per graph; nothing that is not listed (default ['cpu']). */
  executionProviders?: readonly ExecutionProviderName[];
  /** Default: number of cores. */
  intraOpNumThreads?: number;
  /** Default true (faster; costs memory on large UNets). */
  enableCpuMemArena?: boolean;
  /** ORT's memory pattern (one planned block per input shape; default true). */
  enableMemPattern?: boolean;
  /** Where fallbacks and choices are reported (default console.warn). */
  log?: (message: string) => void;
  /** Told which provider each graph was opened with (what GET /v1/models and the metrics show). */
  onOpened?: (file: string, provider: ExecutionProviderName) => void;
}

/** None of the listed execution providers could open a graph (and `cpu` was not listed as a fallback). */
export class ExecutionProviderError extends Error {
  override name = 'ExecutionProviderError';
}

export interface LoadedSession {
  session: ort.InferenceSession;
  provider: ExecutionProviderName;
  file: string;
}

function sessionOptions(cfg: SessionConfig, ep: ExecutionProviderName): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: cfg.intraOpNumThreads ?? availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: cfg.enableCpuMemArena ?? true,
    enableMemPattern: cfg.enableMemPattern ?? true,
  };
}

/** In-memory graph bytes (a LoRA-merged copy of `file`) with its external data files, if any. */
export interface GraphBytes {
  model: Uint8Array;
  externalData?: Array<{ path: string; data: Uint8Array }>;
}

/**
 * Opens `file` with the first listed provider that works; one that fails is logged and the next
 * listed one is tried (no process-wide switch: every graph tries the list from the start).
 * With `bytes`, the session is created from those (a patched copy of `file`) instead.
 */
export async function createSession(file: string, cfg: SessionConfig = {}, bytes?: GraphBytes): Promise<LoadedSession> {
  try {
    await access(file);
  } catch {
    throw new ModelFolderError(file, 'missing: not a complete Stable Diffusion ONNX export');
  }
  const log = cfg.log ?? ((m: string) => console.warn(m));
  const wanted = [...(cfg.executionProviders ?? ['cpu'])];
  if (wanted.length === 0) wanted.push('cpu');
  let lastError: unknown;
  for (const [i, ep] of wanted.entries()) {
    try {
      const session = bytes
        ? await ort.InferenceSession.create(bytes.model, { ...sessionOptions(cfg, ep), ...(bytes.externalData?.length ? { externalData: bytes.externalData } : {}) })
        : await ort.InferenceSession.create(file, sessionOptions(cfg, ep));
      if (ep !== 'cpu' || i > 0) log(`onnxruntime: ${file} runs on ${ep}`);
      cfg.onOpened?.(file, ep);
      return { session, provider: ep, file };
    } catch (err) {
      lastError = err;
      const next = wanted[i + 1];
      if (next) log(`onnxruntime: execution provider "${ep}" could not open ${file} (${(err as Error).message.split('\n')[0]}); trying "${next}" (EXECUTION_PROVIDERS=${wanted.join(',')})`);
    }
  }
  const why = (lastError as Error)?.message ?? String(lastError);
  if (!wanted.includes('cpu')) {
    throw new ExecutionProviderError(`${file}: no listed execution provider could open it (EXECUTION_PROVIDERS=${wanted.join(',')}; list cpu last to fall back to the CPU): ${why}`);
  }
  throw new ModelFolderError(file, `onnxruntime could not load the graph (${why})`);
}
