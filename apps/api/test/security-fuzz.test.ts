// Property-based fuzz (fast-check) of the real app through inject: 10,000 hostile requests
// (fuzz-requests.ts, run by fuzz-run.ts). Every answer is 2xx or 4xx, /v1 4xx answers are
// application/problem+json with a code from PROBLEM_CODES, nothing is 5xx, the process stays up and
// its memory bounded. FUZZ_RUNS / FUZZ_SEED override the count and the seed (printed on every run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFuzz } from './fuzz-run.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED);
/** RSS may grow (V8 heap, sharp's cache, Redis client buffers) but not without bound. */
const MAX_RSS_GROWTH = 400 * 1024 * 1024;
const MiB = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;

test(`fuzz: ${RUNS} hostile requests → only 2xx/4xx problem+json with a known code, never 5xx; RSS bounded`, async () => {
  const { counts, rssSamples, rss0, ms } = await runFuzz(RUNS, SEED);
  const total = Object.entries(counts).filter(([k]) => /^\d+$/.test(k)).reduce((n, [, v]) => n + v, 0);
  const peak = Math.max(rss0, ...rssSamples);
  console.log(`fuzz seed=${SEED}: ${total} requests in ${ms} ms; RSS ${MiB(rss0)} → peak ${MiB(peak)} (every 1000: ${rssSamples.map(MiB).join(' ')})`);
  console.log(JSON.stringify(Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)))));
  assert.equal(total, RUNS);
  assert.ok(peak - rss0 < MAX_RSS_GROWTH, `RSS grew by ${MiB(peak - rss0)}`);
  // The generator reached the interesting paths: accepted jobs, validation, bad images, bad bodies.
  if (RUNS >= 5000) {
    for (const code of ['202', 'code:validation_failed', 'code:image_invalid', 'code:invalid_body', 'code:unsupported_media_type', 'code:url_not_allowed']) {
      assert.ok((counts[code] ?? 0) > 0, `no ${code} among the answers`);
    }
  }
});
