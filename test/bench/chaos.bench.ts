// Chaos, long version (the short one runs in npm test: test/e2e/chaos.e2e.test.ts). Two worker
// processes are SIGKILLed and restarted for --seconds while --jobs jobs run (BullMQ lock 2 s,
// stalled check 1 s, JOB_ATTEMPTS=3); steps are slowed (--step-ms) so that kills land mid-job and
// some jobs are lost three times (→ failed with worker_lost). Prints the counts; exits non-zero if
// a job did not end, failed for another reason, has more than one result set, or missed its webhook.
//   scripts/node test/bench/chaos.bench.ts [--jobs 80] [--seconds 90] [--step-ms 700]
import { parseArgs } from 'node:util';
import { runChaos } from '../support/chaos.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: process.env.BENCH_CHAOS_JOBS ?? '80' },
    seconds: { type: 'string', default: process.env.BENCH_CHAOS_SECONDS ?? '90' },
    'step-ms': { type: 'string', default: '700' },
  },
});

const report = await runChaos({
  jobs: Number(values.jobs), chaosMs: Number(values.seconds) * 1000, minLifeMs: 1000, maxLifeMs: 4000,
  settleMs: 180_000, stepDelayMs: Number(values['step-ms']), log: (line) => console.log(`  ${line}`),
});
const multiWebhook = Object.entries(report.terminalWebhooksPerJob).filter(([, n]) => n !== 1);
console.log(`chaos: ${report.jobs} jobs, ${report.kills} SIGKILLs, ${report.stalls} stalled-job recoveries, ${report.superseded} superseded attempts refused`);
console.log(`  ended: ${JSON.stringify(report.byStatus)}; failed by code: ${JSON.stringify(report.failedCodes)}`);
console.log(`  unfinished: ${report.unfinished.length}; jobs with extra objects: ${report.extraObjects.length}; missing webhooks: ${report.missingWebhooks.length}; jobs with >1 terminal webhook id: ${multiWebhook.length}`);
console.log(`  elapsed ${Math.round(report.elapsedMs / 1000)} s`);
const bad = report.unfinished.length + report.extraObjects.length + report.missingWebhooks.length + multiWebhook.length
  + Object.keys(report.failedCodes).filter((c) => c !== 'worker_lost').length;
process.exitCode = bad ? 1 : 0;
