/**
 * Creating ONNX Runtime sessions: execution providers with a logged fallback to CPU, full graph
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
  /** Tried in order, CPU always last (default ['cpu']). */
  executionProviders?: readonly ExecutionProviderName[];
  /** Default: number of cores. */
  intraOpNumThreads?: number;
  /** Default true (faster; costs memory on large UNets). */
  enableCpuMemArena?: boolean;
  /** ORT's memory pattern (one planned block per input shape; default true). */
  enableMemPattern?: boolean;
  /** Where fallbacks and choices are reported (default console.warn). */
  log?: (message: string) => void;
}

/** Providers that failed to initialise in this process. */
const unavailable = new Set<ExecutionProviderName>();

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
 * Opens `file` with the first provider that works; a provider that fails is logged and skipped.
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
  if (!wanted.includes('cpu')) wanted.push('cpu');
  let lastError: unknown;
  for (const ep of wanted) {
    if (unavailable.has(ep)) continue;
    try {
      const session = bytes
        ? await ort.InferenceSession.create(bytes.model, { ...sessionOptions(cfg, ep), ...(bytes.externalData?.length ? { externalData: bytes.externalData } : {}) })
        : await ort.InferenceSession.create(file, sessionOptions(cfg, ep));
      return { session, provider: ep, file };
    } catch (err) {
      lastError = err;
      if (ep !== 'cpu') {
        unavailable.add(ep); // logged once per process; later graphs go straight to the next provider
        log(`onnxruntime: execution provider "${ep}" unavailable (${(err as Error).message.split('\n')[0]}); falling back to the next of ${wanted.join(', ')}`);
      }
    }
  }
  throw new ModelFolderError(file, `onnxruntime could not load the graph (${(lastError as Error)?.message ?? lastError})`);
}
