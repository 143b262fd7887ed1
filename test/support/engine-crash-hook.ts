// Test-only hook, preloaded with `--import` into a service process (service-process.ts, when
// SDSVC_TEST_ENGINE_CRASH_FILE is set) or into an EngineHost thread (its `execArgv` option);
// product code knows nothing of it. On the engine thread, when the file named by
// SDSVC_TEST_ENGINE_CRASH_FILE exists at a UNet evaluation, the hook deletes it and kills the
// thread with an uncaught error, as a crash or an out-of-memory abort would, with the job in flight.
import { existsSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const crashFile = process.env.SDSVC_TEST_ENGINE_CRASH_FILE;

if (!isMainThread && crashFile) {
  const ort = createRequire(import.meta.url)('onnxruntime-node') as {
    InferenceSession: { prototype: { run: (feeds: Record<string, unknown>, ...rest: unknown[]) => Promise<unknown>; inputNames: readonly string[] } };
  };
  const proto = ort.InferenceSession.prototype;
  const run = proto.run;
  proto.run = function (this: { inputNames: readonly string[] }, feeds, ...rest) {
    if (this.inputNames.includes('timestep') && existsSync(crashFile)) {
      try { unlinkSync(crashFile); } catch { return run.call(this, feeds, ...rest); }
      setImmediate(() => { throw new Error('engine thread crash (SDSVC_TEST_ENGINE_CRASH_FILE test hook)'); });
      return new Promise(() => {}); // never answers: the thread dies first
    }
    return run.call(this, feeds, ...rest);
  } as typeof run;
}
