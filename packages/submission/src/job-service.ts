// The job service the protocol adapters share: one submission path, one way to read and cancel.
// Reads and cancels take the viewer (the caller's key): another key's job is "not found".
import type { JobRecord } from '@sdsvc/jobs';
import { cancelJob, type Canceled } from './cancel-job.ts';
import type { JobLog, SubmissionDeps } from './deps.ts';
import { submitJob, type SubmitInput, type Submitted } from './submit-job.ts';
import { canSee, type Viewer } from './tenancy.ts';

export class JobService {
  readonly deps: SubmissionDeps;
  constructor(deps: SubmissionDeps) {
    this.deps = deps;
  }

  submit(input: SubmitInput): Promise<Submitted> {
    return submitJob(this.deps, input);
  }

  /** The job record, or null when it does not exist or belongs to another key than `viewer`'s. */
  async get(id: string, viewer?: Viewer): Promise<JobRecord | null> {
    const rec = await this.deps.store.get(id);
    return rec && canSee(rec, viewer) ? rec : null;
  }

  /** null when the job does not exist or is not the viewer's (nothing is changed then). */
  async cancel(id: string, log?: JobLog, viewer?: Viewer): Promise<Canceled | null> {
    if (viewer && !(await this.get(id, viewer))) return null;
    return await cancelJob(this.deps, id, log);
  }
}
