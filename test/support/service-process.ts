// Runs `scripts/node apps/api/src/main.ts` as a real child process (API or worker role), keeps its
// pino JSON log lines for assertions and diagnostics, and stops it with a real signal.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor, WaitAborted } from './wait-for.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STEP_DELAY_HOOK = fileURLToPath(new URL('./step-delay-hook.ts', import.meta.url));
export const ENGINE_CRASH_HOOK = fileURLToPath(new URL('./engine-crash-hook.ts', import.meta.url));
const EXIT_AFTER_HOOK = fileURLToPath(new URL('./exit-after-hook.ts', import.meta.url));

export interface ServiceProcess {
  role: string;
  child: ChildProcess;
  /** Parsed JSON log lines (non-JSON lines are kept as {msg}). */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code/signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(match: (line: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines, for failure messages. */
  tail(n?: number): string;
  /** Set once the process has exited (code/signal), else null. */
  exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | null;
}

export function startService(role: 'api' | 'worker' | 'all', env: Record<string, string>): ServiceProcess {
  // The step-delay hook is preloaded on the command line (worker threads inherit execArgv); not via
  // NODE_OPTIONS, which scripts/node's own version probe would also run.
  const nodeArgs = [
    ...(env.SDSVC_TEST_STEP_DELAY_MS ? [`--import=${STEP_DELAY_HOOK}`] : []),
    ...(env.SDSVC_TEST_ENGINE_CRASH_FILE ? [`--import=${ENGINE_CRASH_HOOK}`] : []),
    ...(env.SDSVC_TEST_EXIT_AFTER ? [`--import=${EXIT_AFTER_HOOK}`] : []),
  ];
  const child = spawn(`${ROOT}scripts/node`, [...nodeArgs, 'apps/api/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env, ROLE: role },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const onLine = (line: string) => {
    if (!line.trim()) return;
    raw.push(line);
    try { logs.push(JSON.parse(line) as Record<string, unknown>); } catch { logs.push({ msg: line }); }
    if (process.env.E2E_VERBOSE) process.stderr.write(`[${role}] ${line}\n`);
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buf = '';
    stream.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) { onLine(buf.slice(0, nl)); buf = buf.slice(nl + 1); }
    });
  }
  let exitStatus: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => { exitStatus = { code, signal }; resolve(exitStatus); });
  });
  const svc: ServiceProcess = {
    role,
    child,
    logs,
    exited,
    tail: (n = 30) => raw.slice(-n).join('\n'),
    exitStatus: () => exitStatus,
    async waitForLog(match, what, timeoutMs = 60_000) {
      // A process that exited cannot log any more: fail at once (with its log tail), not at the timeout.
      return await waitFor(() => logs.find(match), {
        timeoutMs,
        what: `${role}: ${what}`,
        failFast: () => (exitStatus && !logs.some(match)
          ? new WaitAborted(`${role} process exited (${JSON.stringify(exitStatus)}) before ${what}`)
          : undefined),
      }).catch((err: Error) => {
        throw new Error(`${err.message}\n--- ${role} log tail ---\n${svc.tail()}`);
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return await exited;
    },
  };
  return svc;
}

/** Waits until the API answers GET /healthz; fails at once when `server` has exited. */
export async function waitForHttp(url: string, timeoutMs = 60_000, server?: ServiceProcess): Promise<void> {
  await waitFor(async () => (await fetch(url)).ok, {
    timeoutMs, intervalMs: 100, what: `GET ${url}`,
    failFast: () => {
      const status = server?.exitStatus();
      return status ? new WaitAborted(`${server!.role} process exited (${JSON.stringify(status)}) before answering ${url}`) : undefined;
    },
  });
}

/**
 * Environment for a service process whose engine thread holds every UNet evaluation for at least
 * `ms` (test/support/step-delay-hook.ts, which startService preloads with --import when
 * SDSVC_TEST_STEP_DELAY_MS is set): makes "a step is longer than X" true by construction instead
 * of depending on the machine's speed. The hook also logs one `test hook: unet run` line (with
 * the latents' dims) per evaluation.
 */
export function slowStepsEnv(ms: number): Record<string, string> {
  return { SDSVC_TEST_STEP_DELAY_MS: String(ms) };
}

/** `test hook: unet run` lines of a process started with slowStepsEnv, in the order they ran. */
export function unetRuns(svc: ServiceProcess): Array<{ dims: number[]; at: number; ms: number }> {
  return svc.logs.filter((l) => l.msg === 'test hook: unet run') as unknown as Array<{ dims: number[]; at: number; ms: number }>;
}

/**
 * The UNet runs of one job: those that started after the worker logged `job started` for it (and,
 * when given, before `until`), so warm-up runs and other jobs' runs do not count whatever their size.
 */
export function unetRunsOfJob(svc: ServiceProcess, jobId: string, until = Infinity): Array<{ dims: number[]; at: number; ms: number }> {
  const started = svc.logs.find((l) => l.job_id === jobId && l.msg === 'job started');
  if (!started) return [];
  const from = Date.parse(String(started.time));
  return unetRuns(svc).filter((r) => r.at >= from && r.at < until);
}
