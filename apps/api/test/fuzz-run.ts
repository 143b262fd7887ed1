// Runs the fuzz against a real app (private Redis, temporary file store, bundled models): every
// answer is 2xx or 4xx; every /v1 4xx is application/problem+json with a code from PROBLEM_CODES;
// nothing is 5xx; the app still answers afterwards. Used by security-fuzz.test.ts (10,000 runs) and
// test/bench/security-fuzz.bench.ts (more).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isProblemCode } from '@sdsvc/contracts';
import { startHarness } from './harness.ts';
import { fuzzImages, requestArb, type FuzzCase } from './fuzz-requests.ts';

const KEY = 'fuzz-key-0123456789';

export interface FuzzReport {
  counts: Record<string, number>;
  /** RSS after every 1000 requests, bytes. */
  rssSamples: number[];
  rss0: number;
  ms: number;
}

export async function runFuzz(runs: number, seed: number): Promise<FuzzReport> {
  const h = await startHarness({
    API_KEYS: KEY, RATE_LIMIT_PER_MINUTE: '0', MAX_ACTIVE_JOBS_PER_KEY: '0',
    MAX_BODY_BYTES: '192KiB', MAX_IMAGE_BYTES: '48KiB', MAX_IMAGE_PIXELS: '1000000',
    WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
  }, {
    // The fuzz is about input handling: the overload guard (which a busy shared CI machine could
    // trip) is set out of the way here; it has its own test.
    appDeps: { underPressure: { maxEventLoopDelayMs: 60_000, maxHeapUsedBytes: 8 * 1024 ** 3 } },
  });
  const counts: Record<string, number> = {};
  const bump = (k: string) => { counts[k] = (counts[k] ?? 0) + 1; };
  try {
    const img = await fuzzImages(h.config.maxImageBytes);
    const routes = h.app.authRoutes().filter((r) => !r.url.startsWith('/admin') && !r.url.startsWith('/docs') && r.url !== '/');
    const rss0 = process.memoryUsage().rss;
    const rssSamples: number[] = [];
    let n = 0;
    const started = Date.now();
    await fc.assert(fc.asyncProperty(requestArb(img, { key: KEY, routes }), async (req: FuzzCase) => {
      const { kind, ...options } = req;
      const res = await h.app.inject(options);
      if (++n % 1000 === 0) rssSamples.push(process.memoryUsage().rss);
      bump(`${res.statusCode}`);
      bump(`kind:${kind}`);
      const where = `${options.method} ${String(options.url).slice(0, 80)} (${kind}) → ${res.statusCode} ${res.body.slice(0, 300)}`;
      assert.ok(res.statusCode < 500, where);
      assert.ok(res.statusCode < 300 || res.statusCode >= 400, where);
      // Compatibility adapters (OpenAI /v1/images/*, A1111 /sdapi/*) answer errors in their own
      // protocol's shape; the rule for them is the status alone.
      const adapter = /^\/(v1\/images|sdapi)\//.test(String(options.url));
      if (adapter) bump('adapter');
      if (res.statusCode >= 400 && options.method !== 'HEAD' && !adapter) {
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/, where);
        const code = res.json().code as string;
        assert.ok(isProblemCode(code), `${where}: code ${code} is not in PROBLEM_CODES`);
        bump(`code:${code}`);
      }
    }), { numRuns: runs, seed, endOnFailure: true });
    const ms = Date.now() - started;
    const health = await h.app.inject({ url: '/healthz' });
    assert.equal(health.statusCode, 200, 'the app still answers');
    return { counts, rssSamples, rss0, ms };
  } finally {
    await h.close();
  }
}
