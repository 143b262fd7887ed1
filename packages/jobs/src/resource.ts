// Record → public job resource. URLs are made at read time (presigned URLs expire).
import type { JobResource } from '@sdsvc/contracts';
import type { JobRecord } from './record.ts';

export interface BuildResourceOptions {
  urlFor: (key: string) => Promise<string>;
  /** Jobs ahead while queued; ignored for other statuses. */
  queuePosition?: number | null;
}

export async function buildJobResource(rec: JobRecord, opts: BuildResourceOptions): Promise<JobResource> {
  const urlOf = async (key: string | null) => (key === null ? null : await opts.urlFor(key));
  const result = rec.result
    ? {
      images: await Promise.all(rec.result.images.map(async (img) => ({ url: await urlOf(img.key), ...img }))),
      ...(rec.result.animation ? { animation: { url: await opts.urlFor(rec.result.animation.key), ...rec.result.animation } } : {}),
    }
    : null;
  return {
    id: rec.id,
    status: rec.status,
    type: rec.type,
    model: rec.model,
    params: rec.params,
    progress: rec.progress,
    queue_position: rec.status === 'queued' ? (opts.queuePosition ?? null) : null,
    created_at: rec.created_at,
    started_at: rec.started_at,
    finished_at: rec.finished_at,
    cancel_requested: rec.cancel_requested,
    attempts: rec.attempts,
    result,
    error: rec.error,
    metadata: (rec.metadata ?? null) as JobResource['metadata'],
    webhook: rec.webhook ? { url: rec.webhook.url, events: rec.webhook.events, attempts: rec.webhook_attempts } : null,
  };
}
