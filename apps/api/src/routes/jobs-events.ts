// GET /v1/jobs/:id/events: Server-Sent Events. The current state goes first (late clients catch
// up), then every newer event in seq order; the stream ends after a terminal event.
import type { FastifyInstance } from 'fastify';
import { TERMINAL_EVENTS, type JobEventType } from '@sdsvc/contracts';
import type { JobRecord } from '@sdsvc/jobs';
import type { AppDeps } from '../deps.ts';
import type { JobView } from '../job-view.ts';
import { HttpProblem } from '../problem.ts';
import { canSee } from '@sdsvc/submission';

export interface JobsEventsOptions { deps: AppDeps; view: JobView }

/** The event that describes a record's current state. */
export function stateEvent(rec: JobRecord): JobEventType {
  switch (rec.status) {
    case 'queued': return 'queued';
    case 'running': return rec.progress.step > 0 ? 'progress' : 'started';
    default: return rec.status;
  }
}

export async function jobsEventsRoutes(app: FastifyInstance, opts: JobsEventsOptions): Promise<void> {
  const { deps, view } = opts;
  const heartbeatMs = deps.sseHeartbeatMs ?? 15_000;

  app.get<{ Params: { id: string } }>('/v1/jobs/:id/events', async (request, reply) => {
    const { id } = request.params;
    const first = await deps.store.get(id);
    if (!first || !canSee(first, request)) throw new HttpProblem(404, 'job_not_found', `no job ${id}`); // another key's job: not found

    // Subscribe before reading the state, so nothing published in between is lost; events the
    // state already covers are dropped by seq.
    const pending: Array<{ type: JobEventType; seq: number; record: JobRecord }> = [];
    let deliver: ((e: { type: JobEventType; seq: number; record: JobRecord }) => void) | null = null;
    const unsubscribe = await deps.store.subscribe(id, (e) => (deliver ? deliver(e) : pending.push(e)));
    const current = await deps.store.get(id);
    if (!current) {
      await unsubscribe();
      throw new HttpProblem(404, 'job_not_found', `no job ${id}`);
    }

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id),
    });

    let lastSeq = 0;
    let closed = false;
    let chain = Promise.resolve();
    const heartbeat = setInterval(() => { if (!closed) raw.write(': keep-alive\n\n'); }, heartbeatMs);
    const finish = async () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      await unsubscribe();
      raw.end();
    };
    raw.on('close', () => { void finish(); });

    const send = (type: JobEventType, seq: number, rec: JobRecord) => {
      // Serialised: building a resource is async, and order must hold.
      chain = chain.then(async () => {
        if (closed || seq <= lastSeq) return;
        lastSeq = seq;
        const job = await view(rec);
        raw.write(`id: ${seq}\nevent: ${type}\ndata: ${JSON.stringify({ type, seq, job })}\n\n`);
        if (TERMINAL_EVENTS.includes(type)) await finish();
      }).catch((err: unknown) => {
        request.log.error({ err, job_id: id }, 'SSE write failed');
        void finish();
      });
    };

    raw.write('retry: 2000\n\n');
    send(stateEvent(current), current.seq, current);
    for (const e of pending) send(e.type, e.seq, e.record);
    deliver = (e) => send(e.type, e.seq, e.record);
    await chain;
  });
}
