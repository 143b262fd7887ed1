// Starts a private redis-server on a free loopback port: used by tests and by `npm start` when
// REDIS_URL is unset. Never touches a shared Redis: readiness is checked against the child's pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalRedis {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface LocalRedisOptions {
  port?: number;
  /** Data directory; a temporary one (removed on stop) when absent. */
  dir?: string;
  /** Keep an append-only file so a restart keeps the queue (default false for tests). */
  appendOnly?: boolean;
  binary?: string;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections at host:port within timeoutMs. */
export async function isListening(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return await new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** process_id from `INFO server` of the Redis at host:port, or null when it does not answer as Redis. */
export async function redisProcessId(host: string, port: number, timeoutMs = 500): Promise<number | null> {
  return await new Promise((resolve) => {
    const sock = connect({ host, port });
    let reply = '';
    const done = (pid: number | null) => { sock.destroy(); resolve(pid); };
    sock.setTimeout(timeoutMs, () => done(null));
    sock.once('error', () => done(null));
    sock.once('close', () => done(null)); // closed without a Redis answer (resolve ignores repeats)
    sock.once('connect', () => sock.write('INFO server\r\n'));
    sock.on('data', (d: Buffer) => {
      reply += d.toString();
      const m = /process_id:(\d+)/.exec(reply);
      if (m) done(Number(m[1]));
      else if (reply.startsWith('-')) done(null); // an error reply (e.g. NOAUTH): not ours
    });
  });
}

const ADDRESS_IN_USE = /address already in use|EADDRINUSE/i;

export async function startLocalRedis(opts: LocalRedisOptions = {}): Promise<LocalRedis> {
  // freePort() only finds a port that was free a moment ago: another process may bind it before
  // redis-server does (redis-server cannot bind port 0). Retry with a fresh port when that happens.
  const attempts = opts.port === undefined ? 5 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts, opts.port ?? (await freePort()));
    } catch (err) {
      if (attempt >= attempts || !ADDRESS_IN_USE.test((err as Error).message)) throw err;
    }
  }
}

async function startOnce(opts: LocalRedisOptions, port: number): Promise<LocalRedis> {
  const tempDir = opts.dir ? undefined : await mkdtemp(join(tmpdir(), 'sdsvc-redis-'));
  const dir = opts.dir ?? tempDir!;
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', opts.appendOnly ? 'yes' : 'no', '--daemonize', 'no', '--loglevel', 'warning',
  ];
  // redis-server logs to stdout (bind errors included): keep both streams for error messages.
  const child = spawn(opts.binary ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => { output = (output + d.toString()).slice(-4000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`cannot start redis-server: ${err.message}. Install Redis or set REDIS_URL.`)));
    child.once('exit', (code) => { exited = true; reject(new Error(`redis-server exited with code ${code}: ${output.trim()}`)); });
  });
  spawnError.catch(() => {});
  // Ready means *our* process answers on the port: INFO's process_id is the child's pid (not some
  // other server that took the port first).
  const ready = (async () => {
    for (let i = 0; i < 400 && !exited; i++) {
      if ((await redisProcessId('127.0.0.1', port, 200)) === child.pid) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!exited) throw new Error(`redis-server (pid ${child.pid}) did not answer on port ${port}: ${output.trim()}`);
  })();
  try {
    await Promise.race([ready, spawnError]);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exitedP = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exitedP;
      }
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  };
}
