// Profiling aid for issue #11 (not part of the bench): runs the API as its own process against a
// private Redis, drives one case with autocannon and prints the CPU µs per request of the API and
// Redis processes (from /proc); with --prof, writes a V8 CPU profile of the API (--cpu-prof).
//   scripts/node test/bench/support/profile-api.ts post|get [--seconds 5] [--prof DIR]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { freePort, redisProcessId, startLocalRedis } from '@sdsvc/local-redis';
import { ROOT, waitForHttp } from '../../support/service-process.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '5' }, prof: { type: 'string' }, connections: { type: 'string', default: '50' } },
});
const mode = positionals[0] ?? 'post';
const body = JSON.stringify({ type: 'txt2img', prompt: 'a lighthouse at dusk, (oil painting:1.2)', width: 64, height: 64, steps: 4, seed: 42 });

export async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (1/100 s)
}

const redis = await startLocalRedis();
const redisPid = (await redisProcessId('127.0.0.1', Number(new URL(redis.url).port)))!;
const dataDir = await mkdtemp(join(tmpdir(), 'sdsvc-prof-'));
const port = await freePort();
const args = [...(values.prof ? ['--cpu-prof', `--cpu-prof-dir=${values.prof}`] : []), 'apps/api/src/main.ts'];
const api = spawn(`${ROOT}scripts/node`, args, {
  cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env, ROLE: 'api', REDIS_URL: redis.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn',
    STORAGE_URL: `file://${join(dataDir, 'storage')}`, FILE_URL_SECRET: 'bench-file-url-secret-0123456789',
    RATE_LIMIT_PER_MINUTE: '0', MAX_ACTIVE_JOBS_PER_KEY: '0', QUEUE_WITHOUT_WORKERS: 'true',
  },
});
try {
  await waitForHttp(`http://127.0.0.1:${port}/healthz`);
  const created = await fetch(`http://127.0.0.1:${port}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const { id } = (await created.json()) as { id: string };
  const opts: autocannon.Options = mode === 'get'
    ? { url: `http://127.0.0.1:${port}/v1/jobs/${id}` }
    : { url: `http://127.0.0.1:${port}/v1/jobs`, method: 'POST', headers: { 'content-type': 'application/json' }, body };
  const connections = Number(values.connections);
  await autocannon({ ...opts, connections, duration: 1 });
  const stats = new Redis(redis.url);
  await stats.config('RESETSTAT');
  const a0 = await cpuTicks(api.pid!); const r0 = await cpuTicks(redisPid); const c0 = process.cpuUsage();
  const r = await autocannon({ ...opts, connections, duration: Number(values.seconds) });
  const a1 = await cpuTicks(api.pid!); const r1 = await cpuTicks(redisPid); const c1 = process.cpuUsage(c0);
  const n = r.requests.total;
  console.log(JSON.stringify({
    mode, rps: Math.round(r.requests.average), p99: r.latency.p99, non2xx: r.non2xx, requests: n,
    api_us_per_req: +((a1 - a0) * 10_000 / n).toFixed(1), redis_us_per_req: +((r1 - r0) * 10_000 / n).toFixed(1), client_us_per_req: +((c1.user + c1.system) / n).toFixed(1),
  }));
  // Redis's own time per command (usec_per_call; an EVALSHA's includes the commands its script runs).
  const info = (await stats.info('commandstats')).split('\n').filter((l) => l.includes('calls='));
  for (const l of info) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(l);
    if (m) console.log(`  ${m[1]!.padEnd(24)} ${(Number(m[2]) / n).toFixed(2).padStart(6)} calls/req  ${m[4]!.padStart(7)} µs/call  ${(Number(m[3]) / n).toFixed(2).padStart(6)} µs/req`);
  }
  stats.disconnect();
} finally {
  api.kill('SIGTERM');
  await once(api, 'exit');
  await redis.stop();
  await rm(dataDir, { recursive: true, force: true });
}
