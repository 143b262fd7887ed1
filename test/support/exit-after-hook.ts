// Test-only hook, preloaded with `--import` into a worker process (service-process.ts, when
// SDSVC_TEST_EXIT_AFTER is set); product code knows nothing of it. When a job's transition to
// SDSVC_TEST_EXIT_AFTER (`succeeded`, `failed` or `canceled`) has been applied in Redis, the process
// SIGKILLs itself before anything else runs: the crash between "job finished" and "webhook queued"
// that the outbox must survive.
import { JobStore } from '@sdsvc/jobs';

const target = process.env.SDSVC_TEST_EXIT_AFTER;
const methods = { succeeded: 'markSucceeded', failed: 'markFailed', canceled: 'markCanceled' } as const;
const name = target ? methods[target as keyof typeof methods] : undefined;

if (name) {
  const proto = JobStore.prototype as unknown as Record<string, (...args: unknown[]) => Promise<boolean>>;
  const original = proto[name]!;
  proto[name] = async function (this: JobStore, ...args: unknown[]) {
    const applied = await original.apply(this, args);
    if (applied) {
      process.stderr.write(`${JSON.stringify({ msg: 'test hook: SIGKILL after transition', event: target })}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
    return applied;
  };
}
