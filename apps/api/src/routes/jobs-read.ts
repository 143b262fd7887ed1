// GET /v1/jobs/:id and POST /v1/jobs/:id/cancel.
import type { FastifyInstance } from 'fastify';
import type { JobService } from '@sdsvc/submission';
import { sendJob, type JobView } from '../job-view.ts';
import { HttpProblem } from '../problem.ts';

export interface JobsReadOptions { jobs: JobService; view: JobView }

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
  required: ['id'],
} as const;

const notFound = (id: string) => new HttpProblem(404, 'job_not_found', `no job ${id}`);

export async function jobsReadRoutes(app: FastifyInstance, opts: JobsReadOptions): Promise<void> {
  const { jobs, view } = opts;

  app.get<{ Params: { id: string } }>('/v1/jobs/:id', { schema: { params: idParams } }, async (request, reply) => {
    const rec = await jobs.get(request.params.id, request);
    if (!rec) throw notFound(request.params.id);
    return await sendJob(reply, view, rec);
  });

  app.post<{ Params: { id: string } }>('/v1/jobs/:id/cancel', { schema: { params: idParams } }, async (request, reply) => {
    const { id } = request.params;
    const canceled = await jobs.cancel(id, request.log, request);
    if (!canceled) throw notFound(id);
    if (canceled.outcome === 'finished') throw new HttpProblem(409, 'job_finished', `job ${id} has already finished`);
    reply.code(canceled.outcome === 'canceled' ? 200 : 202);
    return await view(canceled.record);
  });
}
