import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { listen, startHarness, type Harness } from './harness.ts';

let h: Harness;
let base: string;
before(async () => {
  h = await startHarness();
  base = await listen(h);
});
after(async () => { await h.close(); });

interface SseEvent { id: number; event: string; data: { type: string; seq: number; job: { status: string; progress: { step: number } } } }

/**
 * Opens the stream; `onEvent` sees each event as it arrives, `onComment` each comment line (the
 * keep-alive); resolves with all of them at the end. Callbacks only act: assertions run on the
 * result, so a failure fails the test instead of hanging the stream.
 */
function follow(path: string, onEvent: (e: SseEvent) => void, onComment: (text: string) => void = () => {}): Promise<{ status: number; type: string; events: SseEvent[]; comments: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, (res) => {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          for (const line of block.split('\n').filter((l) => l.startsWith(':'))) { comments.push(line); onComment(line); }
          const fields = Object.fromEntries(block.split('\n').filter((l) => l && !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
          if (!fields.event) continue;
          const e = { id: Number(fields.id), event: fields.event, data: JSON.parse(fields.data) };
          events.push(e);
          onEvent(e);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), events, comments }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Acts as the worker: the job's remaining steps, then success. */
async function finish(id: string, from: number, total: number): Promise<void> {
  for (let step = from; step <= total; step++) await h.store.setProgress(id, step, total);
  await h.store.markSucceeded(id, { images: [] });
}

test('SSE: a late client gets the current state first, then every later event in order, then the stream ends', async () => {
  const job = (await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'sse' } })).json();
  await h.store.markRunning(job.id, { total: 3, attempt: 1 });
  await h.store.setProgress(job.id, 1, 3);

  let driving: Promise<void> | undefined;
  const result = await follow(`/v1/jobs/${job.id}/events`, () => {
    driving ??= finish(job.id, 2, 3); // the current state arrived: now act as the worker
  });
  await driving;
  assert.equal(result.status, 200);
  assert.match(result.type, /^text\/event-stream/);
  assert.deepEqual(result.events.map((e) => `${e.event}:${e.data.job.progress.step}`), ['progress:1', 'progress:2', 'progress:3', 'succeeded:3']);
  const seqs = result.events.map((e) => e.id);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  assert.equal(new Set(seqs).size, seqs.length);
  assert.equal(result.events.at(-1)?.data.job.status, 'succeeded');
});

test('SSE: a finished job sends its terminal state once and ends; unknown job → 404', async () => {
  const job = (await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'done' } })).json();
  await h.app.inject({ method: 'POST', url: `/v1/jobs/${job.id}/cancel` });
  const result = await follow(`/v1/jobs/${job.id}/events`, () => {});
  assert.deepEqual(result.events.map((e) => e.event), ['canceled']);
  const missing = await h.app.inject({ url: '/v1/jobs/nope/events' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().code, 'job_not_found', 'the job is unknown, not the route');
});

test('SSE: a comment line keeps an idle stream open (keep-alive) until the job ends', async () => {
  const job = (await h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'idle' } })).json();
  await h.store.markRunning(job.id, { total: 2, attempt: 1 });
  // Nothing happens to the job until a keep-alive comment has arrived (the harness sends one every 200 ms).
  let driving: Promise<void> | undefined;
  const result = await follow(`/v1/jobs/${job.id}/events`, () => {}, () => { driving ??= finish(job.id, 1, 2); });
  await driving;
  assert.ok(result.comments.length >= 1, 'a comment arrived');
  assert.ok(result.comments.every((c) => c.startsWith(':')));
  assert.deepEqual(result.events.map((e) => e.event), ['started', 'progress', 'progress', 'succeeded']);
});
