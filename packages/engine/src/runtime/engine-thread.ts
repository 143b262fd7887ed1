/**
 * The engine thread: ORT's session.run blocks the thread it runs on, so pipelines live here and
 * the main event loop stays free. Pipelines are loaded on first use per model and kept within the
 * model cache's budget (pipeline-residency.ts).
 * Cancellation arrives through a shared Int32 flag, read between denoising steps and between images.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { basename, dirname, join, resolve } from 'node:path';
import { StableDiffusionPipeline } from '../pipelines/stable-diffusion-pipeline.ts';
import { scanModels } from '../models/model-info.ts';
import { graphWeightBytes, sumBytes } from '../models/weight-bytes.ts';
import type { EngineLora } from '../pipelines/types.ts';
import { loraSetKey, mergeLoraPipeline } from './lora-pipelines.ts';
import { PipelineResidency } from './pipeline-residency.ts';
import { generateBatch } from '../pipelines/batch-generate.ts';
import type { EngineThreadOptions, FromEngine, SerializedError, ToEngine } from './messages.ts';
import type { ExecutionProviderName } from '../models/onnx-session.ts';

const opts = workerData as EngineThreadOptions;
const port = parentPort!;
const log = (message: string) => post({ type: 'log', message });
const sessionConfig = {
  executionProviders: opts.executionProviders, intraOpNumThreads: opts.intraOpNumThreads, enableCpuMemArena: opts.enableCpuMemArena, log,
};
// Base pipelines and LoRA-merged copies (per model and LoRA set) under one budget: MODEL_CACHE_MAX
// models, loraPipelinesMax copies, MODEL_CACHE_BYTES weight bytes; least recently used released.
const resident = new PipelineResidency<StableDiffusionPipeline>({
  maxModels: opts.modelCacheMax, maxLoraPipelines: opts.loraPipelinesMax, maxBytes: opts.modelCacheBytes,
}, log);
/** Weight bytes per graph folder, per model (read once). */
const graphBytes = new Map<string, Promise<Record<string, number>>>();
let merges = 0;
let queue: Promise<void> = Promise.resolve();

function post(msg: FromEngine, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function bytesOf(modelId: string): Promise<Record<string, number>> {
  let b = graphBytes.get(modelId);
  if (!b) {
    b = graphWeightBytes(join(resolve(opts.modelsDir), modelId)).catch(() => ({}));
    graphBytes.set(modelId, b);
  }
  return b;
}

async function pipelineFor(modelId: string): Promise<StableDiffusionPipeline> {
  if (!resident.has(modelId)) {
    const { models: known, problems } = await scanModels(opts.modelsDir);
    if (!known.some((m) => m.id === modelId)) {
      const problem = problems.find((p) => p.id === modelId);
      const why = problem ? `model "${modelId}" is not usable: ${problem.message}` : `unknown model "${modelId}"`;
      throw Object.assign(new Error(`${why} (available: ${known.map((m) => m.id).join(', ')})`), { name: 'UnknownModelError' });
    }
  }
  return await resident.get(modelId, {
    kind: 'model', bytes: sumBytes(await bytesOf(modelId)),
    load: async () => {
      const started = performance.now();
      const providers: Record<string, ExecutionProviderName> = {};
      const value = await StableDiffusionPipeline.load(join(resolve(opts.modelsDir), modelId), {
        ...sessionConfig, warmup: opts.warmup ?? true, warmupSizes: opts.warmupSizes, rngKernel: opts.rngKernel,
        onOpened: (file, provider) => { providers[basename(dirname(file))] = provider; },
      });
      log(`model ${modelId} loaded in ${Math.round(performance.now() - started)} ms`);
      post({ type: 'providers', modelId, providers });
      return { value };
    },
  });
}

/** The LoRA-merged copy of `base` for this set (merged once, then kept under the same budget). */
async function loraPipelineFor(modelId: string, base: StableDiffusionPipeline, loras: readonly EngineLora[]): Promise<StableDiffusionPipeline> {
  const graphs = await bytesOf(modelId);
  // Only the graphs the merge replaced are new weights; the others are the base's sessions.
  const ownBytes = (p: StableDiffusionPipeline) => {
    const m = p.models, b = base.models;
    let n = m.unet !== b.unet ? graphs.unet ?? 0 : 0;
    const names = b.info.sdxl ? b.info.sdxl.textEncoders : ['text_encoder'];
    const mine = b.info.sdxl ? m.textEncoders : [m.textEncoder];
    const theirs = b.info.sdxl ? b.textEncoders : [b.textEncoder];
    names.forEach((name, i) => { if (mine[i] !== theirs[i]) n += graphs[name] ?? 0; });
    return n;
  };
  return await resident.get(loraSetKey(modelId, loras), {
    kind: 'lora', base: modelId, bytes: sumBytes(graphs, ['unet', 'text_encoder', 'text_encoder_2']),
    load: async () => {
      const started = performance.now();
      const { pipeline, patched } = await mergeLoraPipeline(base, loras, sessionConfig);
      log(`lora merge: ${loras.map((l) => `${l.name}:${l.scale}`).join(', ')} into ${modelId}: ${patched} weights in ${Math.round(performance.now() - started)} ms (merge #${++merges})`);
      return { value: pipeline, bytes: ownBytes(pipeline) };
    },
  });
}

function serialize(err: unknown): SerializedError {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

async function run(msg: ToEngine): Promise<void> {
  if (msg.type === 'close') {
    await resident.releaseAll();
    port.close();
    return;
  }
  try {
    const pipe = await pipelineFor(msg.modelId);
    if (msg.type === 'preload') {
      post({ type: 'result', id: msg.id, result: { images: [] } });
      return;
    }
    if (msg.type === 'generateBatch') {
      await runBatch(msg, pipe);
      return;
    }
    const flag = new Int32Array(msg.cancel);
    const controller = new AbortController();
    const checkCancel = () => { if (Atomics.load(flag, 0) !== 0 && !controller.signal.aborted) controller.abort(); };
    checkCancel();
    const loras = msg.request.loras ?? [];
    const runner = loras.length > 0 ? await loraPipelineFor(msg.modelId, pipe, loras) : pipe;
    const result = await runner.generate(msg.request, {
      signal: controller.signal,
      // Read the shared flag at every cancellation point (between steps, groups and images).
      poll: checkCancel,
      onStep: (step, total) => post({ type: 'progress', id: msg.id, step, total }),
      ...(msg.preview ? {
        preview: {
          everySteps: msg.preview.everySteps,
          onPreview: (preview) => post({ type: 'preview', id: msg.id, preview }, [preview.data.buffer as ArrayBuffer]),
          onError: (err) => log(`preview of job message ${msg.id} failed (no more previews for it): ${err.message}`),
        },
      } : {}),
    });
    post({ type: 'result', id: msg.id, result }, result.images.map((i) => i.data.buffer as ArrayBuffer));
  } catch (err) {
    post({ type: 'error', id: msg.id, error: serialize(err) });
  }
}

/** Compatible jobs (same model and LoRA set, same batchKey) as one denoising batch; each entry has
 *  its own cancel flag and progress, and its own result or error. */
async function runBatch(msg: Extract<ToEngine, { type: 'generateBatch' }>, pipe: StableDiffusionPipeline): Promise<void> {
  const loras = msg.requests[0]?.loras ?? [];
  const runner = loras.length > 0 ? await loraPipelineFor(msg.modelId, pipe, loras) : pipe;
  const entries = msg.requests.map((request, index) => {
    const flag = new Int32Array(msg.cancels[index]!);
    const controller = new AbortController();
    const poll = () => { if (Atomics.load(flag, 0) !== 0 && !controller.signal.aborted) controller.abort(); };
    return {
      request,
      opts: { signal: controller.signal, poll, onStep: (step: number, total: number) => post({ type: 'progress', id: msg.id, index, step, total }) },
    };
  });
  const settled = await generateBatch(runner, entries);
  const results = settled.map((s) => (s.status === 'fulfilled' ? { result: s.value } : { error: serialize(s.reason) }));
  const buffers = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value.images.map((i) => i.data.buffer as ArrayBuffer) : []));
  post({ type: 'batchResult', id: msg.id, results }, buffers);
}

// Jobs run one at a time, in arrival order.
port.on('message', (msg: ToEngine) => {
  queue = queue.then(() => run(msg));
});
