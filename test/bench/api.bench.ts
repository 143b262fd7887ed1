// POST /v1/jobs throughput and latency against a real API process and a private Redis on
// loopback (no worker consumes: this measures submission only). Bounded by count and time.
//   scripts/node test/bench/api.bench.ts [--requests 2000] [--concurrency 16]
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startLocalRedis } from '@sdsvc/local-redis';
import { startService, waitForHttp } from '../support/service-process.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: process.env.BENCH_API_REQUESTS ?? '2000' },
    concurrency: { type: 'string', default: process.env.BENCH_API_CONCURRENCY ?? '16' },
    'max-seconds': { type: 'string', default: '60' },
  },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const maxMs = Number(values['max-seconds']) * 1000;

const body = JSON.stringify({ type: 'txt2img', prompt: 'a lighthouse at dusk, (oil painting:1.2)', width: 64, height: 64, steps: 4, seed: 42 });

function post(agent: Agent, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      agent, host: '127.0.0.1', port, method: 'POST', path: '/v1/jobs',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `count` requests with `conc` in flight; returns latencies (ms) and status counts. */
async function load(agent: Agent, port: number, count: number, conc: number, deadline: number) {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let issued = 0;
  const lane = async () => {
    while (issued < count && Date.now() < deadline) {
      issued++;
      const t0 = performance.now();
      const status = await post(agent, port).catch(() => -1);
      latencies.push(performance.now() - t0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, lane));
  return { latencies, statuses, seconds: (performance.now() - t0) / 1000 };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const redis = await startLocalRedis();
const dataDir = await mkdtemp(join(tmpdir(), 'sdsvc-bench-'));
const port = await freePort();
const api = startService('api', {
  REDIS_URL: redis.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn',
  STORAGE_URL: `file://${join(dataDir, 'storage')}`, FILE_URL_SECRET: 'bench-file-url-secret-0123456789',
  QUEUE_WITHOUT_WORKERS: 'true', // no worker runs here
});
try {
  await waitForHttp(`http://127.0.0.1:${port}/healthz`);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  await load(agent, port, Math.min(200, total), concurrency, Date.now() + maxMs); // warm-up (JIT, connections)
  const run = await load(agent, port, total, concurrency, Date.now() + maxMs);
  agent.destroy();
  const sorted = [...run.latencies].sort((a, b) => a - b);
  const ok = run.statuses.get(202) ?? 0;
  console.log(`\nPOST /v1/jobs — API process + private redis-server on loopback, no worker`);
  console.table([{
    requests: run.latencies.length,
    concurrency,
    'accepted (202)': ok,
    'other statuses': [...run.statuses].filter(([s]) => s !== 202).map(([s, n]) => `${s}×${n}`).join(' ') || '-',
    'submissions/s': Math.round(ok / run.seconds),
    'p50 ms': +pct(sorted, 50).toFixed(2),
    'p90 ms': +pct(sorted, 90).toFixed(2),
    'p99 ms': +pct(sorted, 99).toFixed(2),
    'max ms': +sorted[sorted.length - 1].toFixed(2),
  }]);
  if (ok === 0) {
    console.error(api.tail());
    process.exitCode = 1;
  }
} finally {
  await api.stop();
  await redis.stop();
  await rm(dataDir, { recursive: true, force: true });
}
