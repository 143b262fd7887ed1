// The app listening on a loopback port with a real generation worker in the same process (the
// bundled tiny models on CPU), for the compatibility adapters' client tests.
import type { AddressInfo } from 'node:net';
import { createLogger } from '@sdsvc/logging';
import { startWorker, type RunningWorker } from '@sdsvc/worker';
import type { EngineHost } from '@sdsvc/engine';
import { startHarness, type Harness } from './harness.ts';

export interface AdapterStack {
  h: Harness;
  worker: RunningWorker;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  close(): Promise<void>;
}

/** `engine`: the worker's engine thread (default: its own); the caller closes an engine it passes. */
export async function startAdapterStack(env: Record<string, string> = {}, opts: { engine?: EngineHost } = {}): Promise<AdapterStack> {
  // The harness's job store and queue use the prefix 't'; the worker follows QUEUE_PREFIX.
  const logger = process.env.TEST_API_LOG ? createLogger({ level: 'info' }) : undefined; // debugging aid
  const h = await startHarness({ QUEUE_PREFIX: 't', SHUTDOWN_GRACE_MS: '0', ...env }, { logger });
  let worker: RunningWorker | undefined;
  try {
    worker = await startWorker({ config: h.config, logger: createLogger({ level: 'silent' }), objects: h.objects, ...(opts.engine ? { engine: opts.engine } : {}) });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    await worker?.close();
    await h.close();
    throw err;
  }
  const { port } = h.app.server.address() as AddressInfo;
  const w = worker;
  return {
    h, worker: w, baseUrl: `http://127.0.0.1:${port}`,
    async close() {
      await w.close();
      await h.close();
    },
  };
}

/** A URL the API made for PUBLIC_BASE_URL, fetched from the test server instead. */
export function onServer(stack: AdapterStack, url: string): string {
  const u = new URL(url);
  return `${stack.baseUrl}${u.pathname}${u.search}`;
}
