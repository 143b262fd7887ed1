// GET /v1/jobs/:id and POST /v1/jobs/:id/cancel.
import type { FastifyInstance } from 'fastify';
import { buildJobResource } from '@sdsvc/jobs';
import type { AppDeps } from '../deps.ts';
import type { JobView } from '../job-view.ts';
import { HttpProblem } from '../problem.ts';

export interface JobsReadOptions { deps: AppDeps; view: JobView }

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
  required: ['id'],
} as const;

const notFound = (id: string) => new HttpProblem(404, 'job_not_found', `no job ${id}`);

export async function jobsReadRoutes(app: FastifyInstance, opts: JobsReadOptions): Promise<void> {
  const { deps, view } = opts;

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', { schema: { params: idParams } }, async (request) => {
    const rec = await deps.store.get(request.params.id);
    if (!rec) throw notFound(request.params.id);
    return await view(rec);
  });

  app.post<{ Params: { id: string } }>('/v1/jobs/:id/cancel', { schema: { params: idParams } }, async (request, reply) => {
    const { id } = request.params;
    const outcome = await deps.store.requestCancel(id);
    if (outcome === 'not_found') throw notFound(id);
    if (outcome === 'finished') throw new HttpProblem(409, 'job_finished', `job ${id} has already finished`);
    if (outcome === 'canceled') {
      // Queued: no worker will see it, so the queue entry goes and the webhook is ours to send.
      const removed = await deps.queue.remove(id).catch(() => false);
      if (!removed) request.log.warn({ job_id: id }, 'queue entry locked; the worker will skip the canceled job');
    }
    const rec = await deps.store.get(id);
    if (!rec) throw notFound(id);
    if (outcome === 'canceled' && rec.webhook?.events.includes('job.canceled') && deps.webhooks) {
      const resource = await buildJobResource(rec, { urlFor: (k) => deps.objectStore.url(k) });
      await deps.webhooks.notify(resource, 'job.canceled').catch((err: unknown) => request.log.error({ err, job_id: id }, 'could not enqueue webhook'));
    }
    request.log.info({ job_id: id, outcome }, 'cancel');
    reply.code(outcome === 'canceled' ? 200 : 202);
    return await view(rec);
  });
}
