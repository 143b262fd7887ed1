// What can go wrong while running a job, as the stable codes clients see on `error.code`, and
// whether another attempt could help (only storage outages and unexpected errors are retried).
import { scrubInternals } from '@sdsvc/logging';
import { isStorageError } from '@sdsvc/storage';

export type JobErrorCode = 'image_invalid' | 'model_error' | 'prompt_too_long' | 'storage_unavailable' | 'internal_error' | 'content_blocked'
  | 'worker_lost' | 'timeout';

export class JobFailure extends Error {
  readonly code: JobErrorCode;
  /** True when a later attempt may succeed (the outage may be over). */
  readonly retryable: boolean;
  constructor(code: JobErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'JobFailure';
    this.code = code;
    this.retryable = opts.retryable ?? code === 'storage_unavailable';
  }
}

/** Wraps a storage error: an outage is transient; a missing input object is not. */
export function storageFailure(action: string, err: unknown): JobFailure {
  if (isStorageError(err, 'object_not_found') || isStorageError(err, 'invalid_key')) {
    return new JobFailure('internal_error', `${action}: a stored object is missing`, { retryable: false, cause: err });
  }
  // Storage detail (bucket, endpoint, path) goes to the log through `cause`, not to the client.
  return new JobFailure('storage_unavailable', `object storage unavailable while ${action}`, { cause: err });
}

/** The engine rejected the model or the request: retrying the same input gives the same error. */
export function modelFailure(err: unknown): JobFailure {
  const detail = err instanceof Error ? err.message : String(err);
  // The engine thread keeps the error's name: a prompt longer than a static-text-axis UNet takes.
  if (err instanceof Error && err.name === 'PromptTooLongError') {
    return new JobFailure('prompt_too_long', scrubInternals(detail), { retryable: false, cause: err });
  }
  return new JobFailure('model_error', `model error: ${scrubInternals(detail)}`, { retryable: false, cause: err });
}

/** The engine thread died under the job (crash, out of memory): not the input's fault, run it again. */
export function isEngineDeath(err: unknown): boolean {
  return err instanceof Error && err.name === 'EngineThreadDiedError';
}

/** The job's error when BullMQ failed it without our processor (stalled too often, lock lost). */
export function lostError(reason: string | undefined): { code: JobErrorCode; message: string } {
  return { code: 'worker_lost', message: `the worker running this job was lost too many times${reason ? ` (${reason})` : ''}` };
}

export function toJobFailure(err: unknown): JobFailure {
  if (err instanceof JobFailure) return err;
  // The detail is logged through `cause`; the client only learns that something broke.
  return new JobFailure('internal_error', 'internal error', { retryable: true, cause: err });
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}
