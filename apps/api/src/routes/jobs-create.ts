// POST /v1/jobs: the /v1 protocol adapter over the submission service. It reads the body (JSON or
// multipart), hands it to JobService.submit, and answers with the job resource (Prefer: wait).
import { asRedisUnavailable } from '@sdsvc/jobs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { JobRecord } from '@sdsvc/jobs';
import type { JobService } from '@sdsvc/submission';
import { sendJob, waitUntilFinished, type JobView } from '../job-view.ts';
import { preferredWait } from '../prefer.ts';
import { HttpProblem } from '../problem.ts';
import { readSubmission } from '../submission/read-body.ts';

export interface JobsCreateOptions { jobs: JobService; view: JobView }

function idempotencyKeyOf(request: FastifyRequest): string | null {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return null;
  if (typeof key !== 'string' || key.length === 0 || key.length > 255) {
    throw new HttpProblem(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1…255 characters');
  }
  // Scoped per caller: two clients can never collide on (or probe) each other's keys.
  return request.callerId ? `${request.callerId}:${key}` : key;
}

export async function jobsCreateRoutes(app: FastifyInstance, opts: JobsCreateOptions): Promise<void> {
  const { jobs, view } = opts;
  const { config, store } = jobs.deps;

  async function answer(request: FastifyRequest, reply: FastifyReply, id: string, replayed: boolean, created?: JobRecord): Promise<string> {
    const wait = preferredWait(request.headers.prefer);
    let rec: JobRecord | null | undefined;
    if (wait !== null) {
      try {
        await waitUntilFinished(store, id, wait * 1000);
        rec = await jobs.get(id, request);
      } catch (err) {
        // Redis went away while we waited: the job was accepted all the same, and a 503 would
        // make the client submit it again. Answer 202 with the job as it was created.
        if (!created || !asRedisUnavailable(err)) throw err;
        request.log.warn({ job_id: id, err: (err as Error).message }, 'Prefer: wait ended by a Redis outage; answering with the job as created');
      }
      reply.header('preference-applied', `wait=${wait}`);
    }
    // Without a wait, the record just written is the answer (no read-back).
    rec ??= created ?? await jobs.get(id, request);
    if (!rec) throw new HttpProblem(404, 'job_not_found', `job ${id} no longer exists`);
    if (replayed) reply.header('idempotent-replayed', 'true');
    reply.code(202).header('location', `/v1/jobs/${id}`);
    return await sendJob(reply, view, rec);
  }

  const submit = (multipart: boolean) => async (request: FastifyRequest, reply: FastifyReply): Promise<string> => {
    const submission = await readSubmission(request, config.maxImageBytes, multipart);
    const idempotencyKey = idempotencyKeyOf(request);
    const { id, replayed, record } = await jobs.submit({
      // The fingerprint only matters with an Idempotency-Key (submitJob reads it only then).
      body: submission.body, files: submission.files, hash: idempotencyKey === null ? '' : submission.fingerprint(),
      idempotencyKey, owner: request.callerId || null, safetyExempt: request.safetyExempt, log: request.log,
    });
    return await answer(request, reply, id, replayed, record);
  };

  // submission: true puts the route under RATE_LIMIT_PER_MINUTE (plugins/rate-limit.ts). Multipart
  // bodies take the same route in a scope of their own, with @fastify/multipart (body-kind.ts).
  app.post('/v1/jobs', { config: { submission: true } }, submit(false));
  await app.register(async (scope) => {
    await scope.register(multipart, { throwFileSizeLimit: true, limits: { fileSize: config.maxImageBytes } });
    scope.post('/v1/jobs', { config: { submission: true }, constraints: { bodyKind: 'multipart' } }, submit(true));
  });
}
