// The job service the protocol adapters share: one submission path, one way to read and cancel.
import type { JobRecord } from '@sdsvc/jobs';
import { cancelJob, type Canceled } from './cancel-job.ts';
import type { JobLog, SubmissionDeps } from './deps.ts';
import { submitJob, type SubmitInput, type Submitted } from './submit-job.ts';

export class JobService {
  readonly deps: SubmissionDeps;
  constructor(deps: SubmissionDeps) {
    this.deps = deps;
  }

  submit(input: SubmitInput): Promise<Submitted> {
    return submitJob(this.deps, input);
  }

  /** The job record, or null when it does not exist. */
  get(id: string): Promise<JobRecord | null> {
    return this.deps.store.get(id);
  }

  cancel(id: string, log?: JobLog): Promise<Canceled | null> {
    return cancelJob(this.deps, id, log);
  }
}
