/**
 * The engine thread: ORT's session.run blocks the thread it runs on, so pipelines live here and
 * the main event loop stays free. Pipelines are loaded on first use per model and kept.
 * Cancellation arrives through a shared Int32 flag, read between denoising steps and between images.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import { StableDiffusionPipeline } from '../pipelines/stable-diffusion-pipeline.ts';
import { scanModels } from '../models/model-info.ts';
import { LoraPipelineCache } from './lora-pipelines.ts';
import type { EngineThreadOptions, FromEngine, SerializedError, ToEngine } from './messages.ts';

const opts = workerData as EngineThreadOptions;
const port = parentPort!;
const pipelines = new Map<string, Promise<StableDiffusionPipeline>>();
// Jobs with LoRAs run on merged copies of a base pipeline, cached per (model, LoRA set).
const loraPipelines = new LoraPipelineCache({
  max: opts.loraPipelinesMax,
  sessionConfig: {
    executionProviders: opts.executionProviders, intraOpNumThreads: opts.intraOpNumThreads,
    enableCpuMemArena: opts.enableCpuMemArena, log: (message) => post({ type: 'log', message }),
  },
  log: (message) => post({ type: 'log', message }),
});
let queue: Promise<void> = Promise.resolve();

function post(msg: FromEngine, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

async function pipelineFor(modelId: string): Promise<StableDiffusionPipeline> {
  let p = pipelines.get(modelId);
  if (!p) {
    p = (async () => {
      const { models: known, problems } = await scanModels(opts.modelsDir);
      if (!known.some((m) => m.id === modelId)) {
        const problem = problems.find((p) => p.id === modelId);
        const why = problem ? `model "${modelId}" is not usable: ${problem.message}` : `unknown model "${modelId}"`;
        throw Object.assign(new Error(`${why} (available: ${known.map((m) => m.id).join(', ')})`), { name: 'UnknownModelError' });
      }
      return StableDiffusionPipeline.load(join(resolve(opts.modelsDir), modelId), {
        executionProviders: opts.executionProviders, intraOpNumThreads: opts.intraOpNumThreads,
        enableCpuMemArena: opts.enableCpuMemArena, warmup: opts.warmup ?? true, rngKernel: opts.rngKernel,
        log: (message) => post({ type: 'log', message }),
      });
    })();
    pipelines.set(modelId, p);
    p.catch(() => pipelines.delete(modelId)); // a failed load may succeed later (files fixed)
  }
  return p;
}

function serialize(err: unknown): SerializedError {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

async function run(msg: ToEngine): Promise<void> {
  if (msg.type === 'close') {
    await loraPipelines.releaseAll();
    for (const p of pipelines.values()) await p.then((x) => x.release(), () => undefined);
    port.close();
    return;
  }
  try {
    const pipe = await pipelineFor(msg.modelId);
    if (msg.type === 'preload') {
      post({ type: 'result', id: msg.id, result: { images: [] } });
      return;
    }
    const flag = new Int32Array(msg.cancel);
    const controller = new AbortController();
    const checkCancel = () => { if (Atomics.load(flag, 0) !== 0 && !controller.signal.aborted) controller.abort(); };
    checkCancel();
    const loras = msg.request.loras ?? [];
    const runner = loras.length > 0 ? await loraPipelines.get(msg.modelId, pipe, loras) : pipe;
    const result = await runner.generate(msg.request, {
      signal: controller.signal,
      // Read the shared flag at every cancellation point (between steps, groups and images).
      poll: checkCancel,
      onStep: (step, total) => post({ type: 'progress', id: msg.id, step, total }),
    });
    post({ type: 'result', id: msg.id, result }, result.images.map((i) => i.data.buffer as ArrayBuffer));
  } catch (err) {
    post({ type: 'error', id: msg.id, error: serialize(err) });
  }
}

// Jobs run one at a time, in arrival order.
port.on('message', (msg: ToEngine) => {
  queue = queue.then(() => run(msg));
});
