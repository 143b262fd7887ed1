// Tenancy: a job belongs to the key that created it (record.owner = that key's caller id). Another
// key sees no such job (404, never 403: the id's existence is not revealed); admin keys see all.
// Without authentication (no caller id) everything is visible, as before keys existed.
import type { JobRecord } from '@sdsvc/jobs';

export interface Viewer {
  /** '' when the API runs without authentication. */
  callerId: string;
  isAdmin: boolean;
}

export function canSee(rec: Pick<JobRecord, 'owner'>, viewer: Viewer | undefined): boolean {
  if (!viewer || viewer.isAdmin || viewer.callerId === '') return true;
  return rec.owner === viewer.callerId;
}
