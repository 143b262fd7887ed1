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

/** The JSON of params objects as the store wrote or read them. Lets a response embed the stored
 *  string instead of serialising params again. */
const paramsJson = new WeakMap<object, string>();

/** Records `json` as the serialisation of `params`, which must be deep-frozen (read objects that
 *  answer many requests: their JSON cannot go stale). */
export function rememberParamsJson(params: object, json: string): void {
  if (Object.isFrozen(params)) paramsJson.set(params, json);
}

/** Records `json` as what Redis holds for the params of a job just created (JobStore.create, whose
 *  record answers that one request): the resource shows the stored params. No freeze: freezing a
 *  fresh params object costs more than serialising it again. */
export function rememberStoredParamsJson(params: object, json: string): void {
  paramsJson.set(params, json);
}

const str = JSON.stringify;

/**
 * JSON.stringify(resource), byte for byte (same keys, same order), built field by field so that
 * the params — most of the bytes — are the string the store already has (rememberParamsJson)
 * instead of being serialised again: the job routes answer every poll with it.
 */
export function jobResourceJson(r: JobResource): string {
  const params = paramsJson.get(r.params) ?? str(r.params);
  return `{"id":${str(r.id)},"status":${str(r.status)},"type":${str(r.type)},"model":${str(r.model)},"params":${params}`
    + `,"progress":${str(r.progress)},"queue_position":${str(r.queue_position)},"created_at":${str(r.created_at)}`
    + `,"started_at":${str(r.started_at)},"finished_at":${str(r.finished_at)},"cancel_requested":${str(r.cancel_requested)}`
    + `,"attempts":${str(r.attempts)},"result":${str(r.result)},"error":${str(r.error)},"metadata":${str(r.metadata)}`
    + `,"webhook":${str(r.webhook)}}`;
}
