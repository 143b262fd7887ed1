// Test-only hook, preloaded into a service process with `--import` (see slowStepsEnv in
// service-process.ts); product code knows nothing of it. On the engine thread (a worker_threads
// thread, where ONNX Runtime runs) it holds every UNet evaluation for SDSVC_TEST_STEP_DELAY_MS
// before running it, blocking the thread exactly as a slow model would, so "each step takes longer
// than X" holds by construction on any machine. Each evaluation is logged as one JSON line on
// stderr (`test hook: unet run`, with the latents' dims) so tests can count the steps the engine
// really ran, e.g. to prove that a canceled job stopped computing.
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const delayMs = Number(process.env.SDSVC_TEST_STEP_DELAY_MS ?? 0);

if (!isMainThread && delayMs > 0) {
  // The same CommonJS instance the engine gets (onnxruntime-node is CommonJS).
  const ort = createRequire(import.meta.url)('onnxruntime-node') as {
    InferenceSession: { prototype: { run: (feeds: Record<string, { dims: readonly number[] }>, ...rest: unknown[]) => Promise<unknown>; inputNames: readonly string[] } };
  };
  const proto = ort.InferenceSession.prototype;
  const run = proto.run;
  const gate = new Int32Array(new SharedArrayBuffer(4));
  proto.run = function (this: { inputNames: readonly string[] }, feeds, ...rest) {
    if (this.inputNames.includes('timestep') && feeds.sample) {
      const at = Date.now();
      Atomics.wait(gate, 0, 0, delayMs); // block the engine thread, as a slow step would
      writeSync(2, `${JSON.stringify({ msg: 'test hook: unet run', dims: [...feeds.sample.dims], at, ms: Date.now() - at })}\n`);
    }
    return run.call(this, feeds, ...rest);
  } as typeof run;
}
