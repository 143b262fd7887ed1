// Runs `scripts/node apps/api/src/main.ts` as a real child process (API or worker role), keeps its
// pino JSON log lines for assertions and diagnostics, and stops it with a real signal.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

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
}

export function startService(role: 'api' | 'worker' | 'all', env: Record<string, string>): ServiceProcess {
  const child = spawn(`${ROOT}scripts/node`, ['apps/api/src/main.ts'], {
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
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const svc: ServiceProcess = {
    role,
    child,
    logs,
    exited,
    tail: (n = 30) => raw.slice(-n).join('\n'),
    async waitForLog(match, what, timeoutMs = 60_000) {
      let exitedEarly = false;
      void exited.then(() => { exitedEarly = true; });
      return await waitFor(() => {
        const hit = logs.find(match);
        if (hit) return hit;
        if (exitedEarly) throw new Error(`${role} process exited before ${what}:\n${svc.tail()}`);
        return undefined;
      }, { timeoutMs, what: `${role}: ${what}` }).catch((err: Error) => {
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

/** Waits until the API answers GET /healthz. */
export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => (await fetch(url)).ok, { timeoutMs, intervalMs: 100, what: `GET ${url}` });
}
