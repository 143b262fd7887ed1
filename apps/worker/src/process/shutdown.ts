// SIGTERM/SIGINT → one orderly shutdown; a second signal while it runs exits at once, and so does
// a shutdown that outlives its deadline (a close waiting on an unreachable Redis, a hung socket):
// the process always ends, non-zero when it could not close cleanly, and the orchestrator (or the
// stalled-job check, for a job that could not be handed back) takes it from there.
import type { Logger } from '@sdsvc/logging';

/** What shutdown may take beyond SHUTDOWN_GRACE_MS before the process exits anyway. */
export const SHUTDOWN_MARGIN_MS = 5000;

export interface ShutdownOptions {
  /** Exit (code 1) when the shutdown has not finished this long after the signal. */
  deadlineMs: number;
}

export function onShutdownSignal(logger: Logger, shutdown: (signal: NodeJS.Signals) => Promise<void>, opts: ShutdownOptions): void {
  let stopping = false;
  const exit = (code: number) => { logger.flush?.(); process.exit(code); };
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
    }
    stopping = true;
    logger.info({ signal, deadlineMs: opts.deadlineMs }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs: opts.deadlineMs }, 'shutdown did not finish in time: exiting');
      exit(1);
    }, opts.deadlineMs);
    shutdown(signal).then(
      () => { clearTimeout(deadline); logger.info('shutdown complete'); exit(0); },
      (err: unknown) => { clearTimeout(deadline); logger.error({ err }, 'shutdown failed'); exit(1); },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
