export { startWorker, type StartWorkerOptions, type RunningWorker } from './start-worker.ts';
export { runGenerateJob, ShutdownRequested, type RunJobDeps } from './run-job.ts';
export { JobFailure, type JobErrorCode } from './job-errors.ts';
export { resolveRedis, type ResolvedRedis } from './process/embedded-redis.ts';
