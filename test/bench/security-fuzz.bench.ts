// The security fuzz at length: FUZZ_RUNS (default 100,000) hostile requests against the real app
// (apps/api/test/fuzz-run.ts); prints the answer counts and the RSS every 1000 requests, and fails
// on any 5xx, any /v1 4xx that is not problem+json with a known code, or RSS growing past 1 GiB.
import { runFuzz } from '../../apps/api/test/fuzz-run.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 100_000);
const seed = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED);
const MiB = (b: number) => Math.round(b / 1024 / 1024);
const { counts, rssSamples, rss0, ms } = await runFuzz(runs, seed);
console.log(`security fuzz: seed ${seed}, ${runs} requests in ${(ms / 1000).toFixed(1)} s (${Math.round(runs / (ms / 1000))}/s)`);
console.log(`RSS start ${MiB(rss0)} MiB, peak ${MiB(Math.max(...rssSamples))} MiB, last ${MiB(rssSamples.at(-1) ?? rss0)} MiB; per 1000: ${rssSamples.map(MiB).join(' ')}`);
console.log(JSON.stringify(counts));
if (Math.max(...rssSamples) - rss0 > 1024 ** 3) {
  console.error('RSS grew by more than 1 GiB');
  process.exitCode = 1;
}
