// The job record as stored in a Redis hash: flat string fields, JSON for the nested parts.
import type { AnimationResult, JobError, JobParams, JobStatus, JobType, StoredResultImage, WebhookAttempt, WebhookEventType } from '@sdsvc/contracts';

export interface StoredWebhook { url: string; events: WebhookEventType[] }
export interface JobResult {
  images: StoredResultImage[];
  /** Animation jobs: the animation file (URL made at read time). */
  animation?: Omit<AnimationResult, 'url'>;
}

export interface NewJobRecord {
  id: string;
  type: JobType;
  model: string;
  params: JobParams;
  metadata?: Record<string, unknown> | null;
  webhook?: StoredWebhook | null;
  /** Who created the job (the caller id of its API key; null without auth): tenancy. */
  owner?: string | null;
  created_at?: string;
}

export interface JobRecord {
  id: string;
  status: JobStatus;
  type: JobType;
  model: string;
  params: JobParams;
  metadata: Record<string, unknown> | null;
  webhook: StoredWebhook | null;
  owner: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Animation jobs also report the frame (0-based) and the number of frames. */
  progress: { step: number; total: number; frame?: number; frames?: number };
  result: JobResult | null;
  error: JobError | null;
  attempts: number;
  cancel_requested: boolean;
  /** Times the reconciler put the job back in the queue after its queue entry was lost. */
  recoveries: number;
  /** Sequence number of the last event published for this job. */
  seq: number;
  webhook_attempts: WebhookAttempt[];
  /** Jobs ahead of this one while queued (JobStore.get/create fill it in); null otherwise. */
  queue_position?: number | null;
}

/**
 * A new record's hash. Fields that are empty or zero at creation (started_at, result, error,
 * attempts, cancel_requested, progress_step…, and metadata/webhook/owner when absent) are not
 * written: fromHash and the Lua scripts read a missing field as empty/0, and every field less is
 * work saved on both sides of the busiest write (the submission path).
 */
export function toHash(rec: NewJobRecord, now: string): Record<string, string> {
  const hash: Record<string, string> = {
    id: rec.id,
    status: 'queued',
    type: rec.type,
    model: rec.model,
    params: JSON.stringify(rec.params),
    created_at: rec.created_at ?? now,
    progress_total: String(rec.params.steps),
  };
  if (rec.metadata) hash.metadata = JSON.stringify(rec.metadata);
  if (rec.webhook) hash.webhook = JSON.stringify(rec.webhook);
  if (rec.owner) hash.owner = rec.owner;
  return hash;
}

/** Every field fromHash reads (JobStore.get's plain read asks Redis for these only; a test checks
 *  that fromHash reads no other). */
export const RECORD_FIELDS = [
  'id', 'status', 'type', 'model', 'params', 'metadata', 'webhook', 'owner', 'created_at', 'started_at', 'finished_at',
  'progress_step', 'progress_total', 'progress_frame', 'progress_frames', 'result', 'error', 'attempts', 'cancel_requested',
  'recoveries', 'seq',
] as const;

const json = <T>(s: string | undefined): T | null => (s ? (JSON.parse(s) as T) : null);
const orNull = (s: string | undefined): string | null => (s ? s : null);

/** The JSON fields as objects already (JobStore.create has them: no parse of what it just serialised). */
export type ParsedFields = Pick<JobRecord, 'params' | 'metadata' | 'webhook'>;

export function fromHash(h: Record<string, string>, webhookAttempts: WebhookAttempt[] = [], parsed?: ParsedFields): JobRecord {
  return {
    id: h.id,
    status: h.status as JobStatus,
    type: h.type as JobType,
    model: h.model,
    params: parsed ? parsed.params : JSON.parse(h.params) as JobParams,
    metadata: parsed ? parsed.metadata : json(h.metadata),
    webhook: parsed ? parsed.webhook : json(h.webhook),
    owner: orNull(h.owner),
    created_at: h.created_at,
    started_at: orNull(h.started_at),
    finished_at: orNull(h.finished_at),
    progress: {
      step: Number(h.progress_step ?? 0), total: Number(h.progress_total ?? 0),
      ...(h.progress_frames ? { frame: Number(h.progress_frame ?? 0), frames: Number(h.progress_frames) } : {}),
    },
    result: json(h.result),
    error: json(h.error),
    attempts: Number(h.attempts ?? 0),
    cancel_requested: h.cancel_requested === '1',
    recoveries: Number(h.recoveries ?? 0),
    seq: Number(h.seq ?? 0),
    webhook_attempts: webhookAttempts,
  };
}
