// Engine metrics, taken at the EngineHost's public surface: denoising step time (the interval
// between two step reports of one job), model load time (a preload, or a model's first job up to
// its first step), the models this worker holds and the execution providers its graphs run on.
import type { EngineHost } from '@sdsvc/engine';
import type { WorkerMetrics } from '@sdsvc/metrics';

const instrumented = new WeakSet<EngineHost>();

export function instrumentEngine(engine: EngineHost, metrics: WorkerMetrics): void {
  if (instrumented.has(engine)) return; // an engine shared by two workers is counted once
  instrumented.add(engine);
  // The providers the loaded graphs really run on (a listed provider that cannot open a graph
  // falls back to the next listed one, per graph).
  engine.onBatch((model, jobs) => metrics.batchJobs.observe({ model }, jobs));
  engine.onProviders((_model, providers) => {
    for (const provider of new Set(Object.values(providers))) metrics.executionProvider.set({ provider }, 1);
  });

  const resident = new Set<string>();
  const loaded = (model: string, startedAt: number) => {
    if (resident.has(model)) return;
    resident.add(model);
    metrics.modelLoad.observe({ model }, (performance.now() - startedAt) / 1000);
    metrics.residentModels.set({ model }, 1);
  };

  // Arguments are passed through unchanged, whatever the host's signatures become.
  const preload = engine.preload.bind(engine);
  engine.preload = async (...args: Parameters<EngineHost['preload']>) => {
    const t0 = performance.now();
    await preload(...args);
    loaded(args[0], t0);
  };

  const generate = engine.generate.bind(engine);
  engine.generate = (...args: Parameters<EngineHost['generate']>) => {
    const [model, request, options = {}, ...rest] = args;
    const t0 = performance.now();
    const cold = !resident.has(model);
    let last: number | undefined;
    const onStep = (step: number, total: number) => {
      const now = performance.now();
      if (last === undefined) {
        if (cold) loaded(model, t0); // a model loaded by its first job: load + warm-up + first step
      } else {
        metrics.denoiseStep.observe({ model }, (now - last) / 1000);
      }
      last = now;
      options.onStep?.(step, total);
    };
    return generate(model, request, { ...options, onStep }, ...rest);
  };
}
