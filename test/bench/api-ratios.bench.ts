// Issue #11's submission-path targets, measured in one run against one private Redis with
// autocannon (50 connections): a minimal Fastify + BullMQ Queue.add baseline vs POST /v1/jobs, and
// a minimal Fastify + one HGETALL baseline vs GET /v1/jobs/:id of a queued job. Each server is its
// own process, autocannon runs here. Targets: POST ≥ 0.5× its baseline with p99 < 25 ms; GET ≥ 0.8×.
// After one untimed warm-up pass, the four cases run in turn for several rounds (--rounds, default
// 5) with every server up, so a busy machine slows each case alike; the ratios are the medians of
// the per-round ratios. Each round starts from an empty Redis (--keep-state: let the jobs of every
// round pile up, as before).
//   scripts/node test/bench/api-ratios.bench.ts [--seconds 5] [--connections 50] [--rounds 5] [--keep-state]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { freePort, startLocalRedis } from '@sdsvc/local-redis';
import { BASELINE_RECORD, BASELINE_RECORD_KEY } from './support/baseline-record.ts';
import { ROOT, startService, waitForHttp, type ServiceProcess } from '../support/service-process.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: process.env.BENCH_API_SECONDS ?? '5' },
    connections: { type: 'string', default: process.env.BENCH_API_CONNECTIONS ?? '50' },
    rounds: { type: 'string', default: process.env.BENCH_API_ROUNDS ?? '5' },
    'keep-state': { type: 'boolean', default: false },
  },
});
const keepState = values['keep-state'];
const duration = Number(values.seconds);
const connections = Number(values.connections);
const rounds = Math.max(1, Number(values.rounds));
const body = JSON.stringify({ type: 'txt2img', prompt: 'a lighthouse at dusk, (oil painting:1.2)', width: 64, height: 64, steps: 4, seed: 42 });

interface Result { name: string; rps: number; p50: number; p99: number; non2xx: number; errors: number; 'server µs/req'?: number; 'redis µs/req'?: number }

/** CPU time (user + system) a process has used, in µs; undefined where /proc cannot tell (not Linux). */
async function cpuMicros(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10_000; // utime + stime, in clock ticks of 10 ms
  } catch { return undefined; }
}

/** Runs one case; also reports the CPU time per request of the server process and of Redis. */
async function cannon(name: string, opts: autocannon.Options, serverPid: number | undefined, redisPid: number | undefined): Promise<Result> {
  // Warm-up (JIT, connections), then the measured run.
  await autocannon({ ...opts, connections, duration: Math.max(1, Math.round(duration / 4)) });
  const [s0, r0] = [await cpuMicros(serverPid), await cpuMicros(redisPid)];
  const r = await autocannon({ ...opts, connections, duration });
  const [s1, r1] = [await cpuMicros(serverPid), await cpuMicros(redisPid)];
  const perReq = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : Math.round((b - a) / r.requests.total));
  return {
    name, rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors,
    'server µs/req': perReq(s0, s1), 'redis µs/req': perReq(r0, r1),
  };
}

async function baseline(mode: 'queue-add' | 'hgetall', redisUrl: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(`${ROOT}scripts/node`, ['test/bench/support/baseline-server.ts', mode, redisUrl], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { port: (JSON.parse(line) as { port: number }).port, child };
}

const redis = await startLocalRedis();
const admin = new Redis(redis.url);
const dataDir = await mkdtemp(join(tmpdir(), 'sdsvc-bench-'));
const children: ChildProcess[] = [];
let api: ServiceProcess | undefined;
try {
  const addBase = await baseline('queue-add', redis.url);
  children.push(addBase.child);
  const getBase = await baseline('hgetall', redis.url);
  children.push(getBase.child);
  const port = await freePort();
  api = startService('api', {
    REDIS_URL: redis.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn',
    STORAGE_URL: `file://${join(dataDir, 'storage')}`, FILE_URL_SECRET: 'bench-file-url-secret-0123456789',
    RATE_LIMIT_PER_MINUTE: '0', MAX_ACTIVE_JOBS_PER_KEY: '0', QUEUE_WITHOUT_WORKERS: 'true', // no worker runs here
  });
  await waitForHttp(`http://127.0.0.1:${port}/healthz`);
  const post = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body };
  /** Clears Redis (unless --keep-state), writes the HGETALL baseline's record again and queues a job for the GET case. */
  async function freshState(): Promise<Array<[string, autocannon.Options, number | undefined]>> {
    if (!keepState) {
      await admin.flushall();
      await admin.hset(BASELINE_RECORD_KEY, BASELINE_RECORD);
    }
    // A queued job to read (no worker runs, so it stays queued with a queue position).
    const created = await fetch(`http://127.0.0.1:${port}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const { id } = (await created.json()) as { id: string };
    return [
      ['baseline: Fastify + Queue.add', { url: `http://127.0.0.1:${addBase.port}/jobs`, ...post }, addBase.child.pid],
      ['POST /v1/jobs', { url: `http://127.0.0.1:${port}/v1/jobs`, ...post }, api!.child.pid],
      ['GET /v1/jobs/:id (queued)', { url: `http://127.0.0.1:${port}/v1/jobs/${id}` }, api!.child.pid],
      ['baseline: Fastify + HGETALL', { url: `http://127.0.0.1:${getBase.port}/record` }, getBase.child.pid],
    ];
  }
  const redisPid = redis.process.pid;
  // One untimed pass first: the API is a large app whose hot paths take longer to be optimised by
  // the JIT than the baselines' few functions; the targets are about steady state.
  let cases = await freshState();
  for (const [, opts] of cases) await autocannon({ ...opts, connections, duration: Math.max(2, Math.round(duration / 2)) });
  const all: Result[][] = [];
  for (let r = 0; r < rounds; r++) {
    // Every round starts from the same, empty Redis: no worker drains the queue here, so otherwise
    // each round would measure a larger backlog (by the last, ~10^6 keys and sorted sets of ~5·10^5
    // jobs, whose inserts miss the caches) instead of the submission path.
    cases = await freshState();
    const round: Result[] = [];
    for (const [name, opts, pid] of cases) round.push(await cannon(name, opts, pid, redisPid));
    all.push(round);
  }
  await api.stop();
  api = undefined;

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`\nAPI submission path — autocannon, ${connections} connections, ${duration} s per run, ${rounds} rounds of the four cases in turn, one private redis-server`);
  console.table(all.flatMap((round, r) => round.map((x) => ({ round: r + 1, ...x }))));
  const postRatio = median(all.map(([add, p]) => p!.rps / add!.rps));
  const getRatio = median(all.map(([, , g, h]) => g!.rps / h!.rps));
  const postP99 = median(all.map(([, p]) => p!.p99));
  const cpuMedian = (i: number, k: 'server µs/req' | 'redis µs/req') => {
    const xs = all.map((round) => round[i]![k]).filter((x): x is number => x !== undefined);
    return xs.length > 0 ? median(xs) : undefined;
  };
  console.log('CPU µs per request (medians over rounds; server = the process answering, baseline or API):');
  console.table(cases.map(([name], i) => ({ name, 'server µs/req': cpuMedian(i, 'server µs/req'), 'redis µs/req': cpuMedian(i, 'redis µs/req') })));
  console.table([
    { target: 'POST /v1/jobs ≥ 0.5× Queue.add baseline', ratio: +postRatio.toFixed(2), met: postRatio >= 0.5 },
    { target: 'POST /v1/jobs p99 < 25 ms', 'p99 ms': postP99, met: postP99 < 25 },
    { target: 'GET /v1/jobs/:id ≥ 0.8× HGETALL baseline', ratio: +getRatio.toFixed(2), met: getRatio >= 0.8 },
  ]);
  const non2xx = all.flat().filter((x) => x.name !== cases[0]![0] && x.name !== cases[3]![0]).reduce((n, x) => n + x.non2xx, 0);
  if (non2xx > 0) console.log(`note: ${non2xx} non-2xx answers from the API`);
} finally {
  for (const c of children) c.kill();
  await api?.stop();
  admin.disconnect();
  await redis.stop();
  await rm(dataDir, { recursive: true, force: true });
}
