// What both compatibility adapters do around the job service: submit one or more ordinary jobs
// (visible under /v1/jobs, counted, cancelable), cancel them when the client goes away, wait for
// them (waitUntilFinished) and read their images from the object store.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem, TERMINAL_STATUSES, type ImageField } from '@sdsvc/contracts';
import type { JobRecord } from '@sdsvc/jobs';
import { fingerprint, type JobService } from '@sdsvc/submission';
import { waitUntilFinished } from '../../job-view.ts';

export interface JobBody {
  body: Record<string, unknown>;
  files?: ReadonlyMap<ImageField, Buffer>;
}

/**
 * Submits `bodies` in order as the request's caller. If one is refused, the ones already queued
 * are canceled and the error is rethrown: the client gets all its images or an error.
 */
export async function submitAll(jobs: JobService, request: FastifyRequest, bodies: JobBody[]): Promise<string[]> {
  const ids: string[] = [];
  try {
    for (const { body, files } of bodies) {
      const { id } = await jobs.submit({
        body, files, hash: fingerprint(body, files), idempotencyKey: null, owner: request.callerId || null, safetyExempt: request.safetyExempt, log: request.log,
      });
      ids.push(id);
    }
  } catch (err) {
    await cancelAll(jobs, request, ids);
    throw err;
  }
  return ids;
}

export async function cancelAll(jobs: JobService, request: FastifyRequest, ids: readonly string[]): Promise<void> {
  await Promise.all(ids.map((id) => jobs.cancel(id, request.log).catch((err: unknown) => request.log.warn({ err, job_id: id }, 'cancel failed'))));
}

/**
 * Cancels `ids` when the client disconnects before the answer is complete (the response closes
 * unfinished). Returns the function that stops watching.
 */
export function cancelOnDisconnect(jobs: JobService, request: FastifyRequest, reply: FastifyReply, ids: readonly string[]): () => void {
  const onClose = () => {
    if (reply.raw.writableFinished) return;
    request.log.info({ job_ids: ids }, 'client disconnected: canceling its jobs');
    void cancelAll(jobs, request, ids);
  };
  reply.raw.on('close', onClose);
  return () => { reply.raw.off('close', onClose); };
}

/**
 * Waits for every job until `deadline` (epoch ms) and returns their records in order. Jobs still
 * unfinished at the deadline are canceled and the request fails with 504 generation_timeout.
 */
export async function waitForAll(jobs: JobService, request: FastifyRequest, ids: readonly string[], deadline: number): Promise<JobRecord[]> {
  const { store } = jobs.deps;
  const records: JobRecord[] = [];
  for (const id of ids) {
    await waitUntilFinished(store, id, Math.max(0, deadline - Date.now()));
    const rec = await jobs.get(id);
    if (!rec) throw new HttpProblem(404, 'job_not_found', `job ${id} no longer exists`);
    records.push(rec);
  }
  const unfinished = records.filter((r) => !TERMINAL_STATUSES.includes(r.status));
  if (unfinished.length > 0) {
    await cancelAll(jobs, request, unfinished.map((r) => r.id));
    throw new HttpProblem(504, 'generation_timeout', `the images were not ready in time (job ${unfinished.map((r) => r.id).join(', ')} canceled)`);
  }
  return records;
}

/** A failed job as the client's error: bad input found by the worker stays a 4xx. */
export function jobFailure(rec: JobRecord): HttpProblem {
  const message = `job ${rec.id} failed: ${rec.error?.message ?? 'unknown error'}`;
  if (rec.error?.code === 'prompt_too_long') return new HttpProblem(400, 'prompt_too_long', message);
  if (rec.error?.code === 'image_invalid') return new HttpProblem(400, 'image_invalid', message);
  if (rec.error?.code === 'content_blocked') return new HttpProblem(400, 'content_blocked', message);
  return new HttpProblem(500, 'generation_failed', message);
}

/** The stored bytes of every result image of `records`, in order; images the safety checker blocked
 *  (nothing stored) are left out, as the OpenAI and A1111 APIs have no way to say "blocked". */
export async function resultImages(jobs: JobService, records: readonly JobRecord[]): Promise<Array<{ rec: JobRecord; index: number; bytes: Buffer; key: string; seed: number; width: number; height: number }>> {
  const out = [];
  for (const rec of records) {
    for (const [index, img] of (rec.result?.images ?? []).entries()) {
      if (img.key === null) continue;
      out.push({ rec, index, key: img.key, seed: img.seed, width: img.width, height: img.height, bytes: await jobs.deps.objectStore.get(img.key) });
    }
  }
  return out;
}
