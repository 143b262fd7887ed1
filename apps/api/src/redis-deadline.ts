// The API's command connection with ioredis's command timeout (a command that gets no answer in
// time fails, so a request on a frozen Redis answers 503) kept by one watchdog instead of a timer
// per command: ioredis starts and clears a setTimeout for every command and deletes a property of
// it, ~0.9 µs of CPU per command (a GET sends two, a POST three).
// Redis answers a connection's commands in order, and ioredis keeps the unanswered ones in order in
// `commandQueue`. The watchdog counts the commands sent and notes the count at every tick; the
// commands sent more than `ms` ago that are still in the queue fail with ioredis's own
// "Command timed out" (between `ms` and `ms + tickMs` after they were sent; ioredis: after `ms`).
import { Redis, type RedisOptions } from 'ioredis';
import { DEFAULT_COMMAND_TIMEOUT_MS, failFastRedisOptions } from '@sdsvc/jobs';

export interface DeadlineRedisOptions {
  /** How long one command may wait for its answer (default: the fail-fast connections' timeout). */
  commandTimeoutMs?: number;
  /** Watchdog interval (default 100 ms). */
  tickMs?: number;
}

/** A fail-fast command connection (@sdsvc/jobs failFastRedisOptions) whose command timeout a watchdog keeps. */
export function createDeadlineRedis(url: string, opts: DeadlineRedisOptions = {}): Redis {
  const ms = opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const tickMs = opts.tickMs ?? 100;
  const redis = new Redis(url, { ...failFastRedisOptions({ commandTimeoutMs: ms }), commandTimeout: undefined });
  // Connections made from this one (a subscriber) keep ioredis's own per-command timeout.
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (override?: Partial<RedisOptions>) => duplicate({ commandTimeout: ms, ...override });

  let sent = 0;
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (command, stream) => {
    sent++;
    return send(command, stream);
  };
  // marks[i]: commands sent by the end of tick i (the last `ticks` + 1 ticks).
  const ticks = Math.ceil(ms / tickMs);
  const marks: number[] = [];
  const timer = setInterval(() => {
    marks.push(sent);
    if (marks.length <= ticks) return;
    const overdue = marks.shift()!; // commands sent at least `ticks` ticks ago
    const queue = redis.commandQueue;
    const unanswered = queue.length;
    // The queue holds the last `unanswered` commands sent (the others are answered or failed).
    for (let i = 0, n = Math.min(unanswered, overdue - (sent - unanswered)); i < n; i++) {
      queue.peekAt(i)?.command.reject(new Error('Command timed out')); // a no-op for a settled command
    }
  }, tickMs);
  timer.unref();
  redis.once('end', () => clearInterval(timer));
  return redis;
}
