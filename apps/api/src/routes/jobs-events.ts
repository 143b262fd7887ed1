// GET /v1/jobs/:id/events: Server-Sent Events. The current state goes first (late clients catch
// up), then every newer event in seq order; the stream ends after a terminal event.
// Pub/sub alone is not trusted: the record is re-read on every heartbeat and after the subscriber
// reconnects, so a lost message never leaves a stream open on a finished job. When Redis goes away
// or the app closes, the stream gets a last `event: error` (a Problem) and ends.
// Live previews (jobs with `preview`) go out as `event: preview` without an `id:` (they are not
// record events); a client joining a running job gets the latest one right after the state.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TERMINAL_EVENTS, type JobEventType } from '@sdsvc/contracts';
import { isRedisUnavailable, type JobPreview, type JobRecord } from '@sdsvc/jobs';
import type { AppDeps } from '../deps.ts';
import { releaseWaits, setWaitPollMs, type JobView } from '../job-view.ts';
import { redisUnavailableProblem } from '../plugins/errors.ts';
import { HttpProblem, problemBody } from '../problem.ts';
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

/** An open stream, as the plugin's close and Redis-loss handlers see it: ends with `event: error`. */
interface OpenStream { abort(problem: HttpProblem): void }

const storeGone = () => new HttpProblem(503, 'store_unavailable', 'the job store is unavailable (Redis cannot be reached); reconnect later');

export async function jobsEventsRoutes(app: FastifyInstance, opts: JobsEventsOptions): Promise<void> {
  const { deps, view } = opts;
  const heartbeatMs = deps.sseHeartbeatMs ?? 15_000;
  const open = new Set<OpenStream>();
  setWaitPollMs(deps.store, heartbeatMs);

  // Redis gone (the command connection dropped): every stream ends with an error event; clients
  // reconnect (retry: 2000) and get a 503 until Redis is back.
  const onRedisClose = () => {
    for (const s of [...open]) s.abort(storeGone());
  };
  deps.redis.on('close', onRedisClose);
  // Before the server waits for open connections: end the streams and the Prefer: wait requests.
  app.addHook('preClose', async () => {
    releaseWaits(deps.store);
    for (const s of [...open]) s.abort(new HttpProblem(503, 'shutting_down', 'the server is shutting down; reconnect later'));
  });
  app.addHook('onClose', async () => { deps.redis.off('close', onRedisClose); });

  const unavailable = (request: FastifyRequest, err: unknown): never => {
    throw isRedisUnavailable(err) ? redisUnavailableProblem(request) : err;
  };

  app.get<{ Params: { id: string } }>('/v1/jobs/:id/events', async (request, reply) => {
    const { id } = request.params;
    const first = await deps.store.get(id).catch((err: unknown) => unavailable(request, err));
    if (!first || !canSee(first, request)) throw new HttpProblem(404, 'job_not_found', `no job ${id}`); // another key's job: not found

    // Subscribe before reading the state, so nothing published in between is lost; events the
    // state already covers are dropped by seq.
    const pending: Array<{ type: JobEventType; seq: number; record: JobRecord }> = [];
    let deliver: ((e: { type: JobEventType; seq: number; record: JobRecord }) => void) | null = null;
    let latestPreview: JobPreview | null = null;
    let deliverPreview: ((p: JobPreview) => void) | null = null;
    const unsubscribe = await deps.store.subscribe(id, (e) => (deliver ? deliver(e) : pending.push(e)),
      (p) => (deliverPreview ? deliverPreview(p) : (latestPreview = p)))
      .catch((err: unknown) => unavailable(request, err));
    const current = await deps.store.get(id).catch(async (err: unknown) => {
      await unsubscribe();
      return unavailable(request, err);
    });
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
    let dropConnection = false;
    let lastEventAt = 0;
    let chain = Promise.resolve();
    const finish = async () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      offResubscribed();
      open.delete(stream);
      // After an error event the connection goes too: a closing server would otherwise wait for
      // the keep-alive timeout of a client that does not hang up.
      raw.end(() => { if (dropConnection) raw.socket?.destroy(); });
      await unsubscribe().catch(() => {});
    };
    const stream: OpenStream = {
      abort(problem) {
        if (closed) return;
        const body = problemBody(request, problem.status, problem.code, problem.message);
        raw.write(`event: error\ndata: ${JSON.stringify(body)}\n\n`);
        dropConnection = true;
        request.log.info({ job_id: id, code: problem.code }, 'SSE stream ended early');
        void finish();
      },
    };

    const send = (type: JobEventType, seq: number, rec: JobRecord) => {
      // Serialised: building a resource is async, and order must hold.
      chain = chain.then(async () => {
        if (closed || seq <= lastSeq) return;
        lastSeq = seq;
        const job = await view(rec);
        if (closed) return;
        raw.write(`id: ${seq}\nevent: ${type}\ndata: ${JSON.stringify({ type, seq, job })}\n\n`);
        lastEventAt = Date.now();
        if (TERMINAL_EVENTS.includes(type)) await finish();
      }).catch((err: unknown) => {
        if (isRedisUnavailable(err)) return stream.abort(storeGone());
        request.log.error({ err, job_id: id }, 'SSE write failed');
        void finish();
      });
    };
    let lastPreview = '';
    const sendPreview = (p: JobPreview) => {
      chain = chain.then(() => {
        // The stored latest and the channel may carry the same preview once, when a client joins.
        if (closed || p.image === lastPreview) return;
        lastPreview = p.image;
        raw.write(`event: preview\ndata: ${JSON.stringify(p)}\n\n`);
      });
    };
    /** Re-reads the record: anything newer than the last event sent goes out (seq dedupes). */
    const recheck = () => {
      if (closed) return;
      deps.store.get(id).then((rec) => {
        if (!rec) return stream.abort(new HttpProblem(404, 'job_not_found', `job ${id} no longer exists`));
        send(stateEvent(rec), rec.seq, rec);
      }, (err: unknown) => {
        if (isRedisUnavailable(err)) stream.abort(storeGone());
      });
    };
    const heartbeat = setInterval(() => {
      if (closed) return;
      raw.write(': keep-alive\n\n');
      // Messages that arrived within the last interval show pub/sub works; a quiet stream re-reads.
      if (Date.now() - lastEventAt >= heartbeatMs / 2) recheck();
    }, heartbeatMs);
    const offResubscribed = deps.store.onResubscribed(recheck);
    open.add(stream);
    raw.on('close', () => { void finish(); });

    raw.write('retry: 2000\n\n');
    send(stateEvent(current), current.seq, current);
    if (current.status === 'running' && current.params.preview) {
      const stored = await deps.store.latestPreview(id).catch(() => null);
      const newest = latestPreview ?? stored; // one from the channel is newer than the stored one
      if (newest) sendPreview(newest);
    }
    for (const e of pending) send(e.type, e.seq, e.record);
    deliver = (e) => send(e.type, e.seq, e.record);
    deliverPreview = sendPreview;
    await chain;
  });
}
