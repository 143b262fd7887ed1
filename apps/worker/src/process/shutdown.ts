// SIGTERM/SIGINT → one orderly shutdown; a second signal while it runs exits at once.
import type { Logger } from '@sdsvc/logging';

export function onShutdownSignal(logger: Logger, shutdown: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    shutdown(signal).then(
      () => { logger.info('shutdown complete'); logger.flush?.(); process.exit(0); },
      (err: unknown) => { logger.error({ err }, 'shutdown failed'); logger.flush?.(); process.exit(1); },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
