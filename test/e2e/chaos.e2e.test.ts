// Chaos, short version (the long one is test/bench/chaos.bench.ts): 40 jobs while two worker
// processes are SIGKILLed and restarted over and over (BullMQ lock 2 s, stalled check every 1 s,
// JOB_ATTEMPTS=3). Every job must end; a failed one only as worker_lost (lost 3 times); no job may
// have more than its one result set in the object store; every finished job gets exactly one
// terminal webhook (one webhook-id).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChaos } from '../support/chaos.ts';

test('chaos: SIGKILLed workers lose no job, duplicate no result and miss no webhook', { timeout: 150_000 }, async () => {
  const report = await runChaos({
    jobs: 40, chaosMs: 20_000, minLifeMs: 1000, maxLifeMs: 3000, settleMs: 60_000, stepDelayMs: 400,
    log: (line) => { if (process.env.E2E_VERBOSE) console.log(line); },
  });
  console.log(`chaos: ${report.jobs} jobs, ${report.kills} kills, ${report.stalls} stalls, ${report.superseded} superseded attempts, ${JSON.stringify(report.byStatus)}, failed codes ${JSON.stringify(report.failedCodes)}, ${Math.round(report.elapsedMs / 1000)} s`);
  assert.deepEqual(report.unfinished, [], 'every job ended');
  assert.ok(report.kills >= 4, `workers were killed (${report.kills})`);
  for (const code of Object.keys(report.failedCodes)) assert.equal(code, 'worker_lost', 'a failed job failed only because its worker was lost');
  assert.deepEqual(report.extraObjects, [], 'one result set per job');
  assert.deepEqual(report.missingWebhooks, [], 'every finished job got its webhook');
  for (const [id, n] of Object.entries(report.terminalWebhooksPerJob)) assert.equal(n, 1, `job ${id}: one terminal webhook id`);
});
