// Calls to the service, with the API key when one is given. Server-Sent Events are read with
// fetch streaming: EventSource cannot send an Authorization header.

const KEY_STORAGE = 'sdsvc.apiKey';

export function apiKey() {
  return localStorage.getItem(KEY_STORAGE) ?? '';
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

function headers(extra = {}) {
  const key = apiKey();
  return key ? { ...extra, authorization: `Bearer ${key}` } : extra;
}

/** An error carrying the problem document the API answered with. */
export class ApiError extends Error {
  constructor(status, problem) {
    const fields = (problem?.errors ?? []).map((e) => `${e.path}: ${e.message}`).join('\n');
    super([problem?.detail ?? `HTTP ${status}`, fields].filter(Boolean).join('\n'));
    this.status = status;
    this.code = problem?.code;
  }
}

async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const listModels = () => call('GET', 'v1/models');
export const submitJob = (body) => call('POST', 'v1/jobs', body);
export const getJob = (id) => call('GET', `v1/jobs/${encodeURIComponent(id)}`);
export const cancelJob = (id) => call('POST', `v1/jobs/${encodeURIComponent(id)}/cancel`);

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

/**
 * Follows a job until it ends: onJob(job, eventType) for every event, onPreview(preview) for each
 * live preview (`event: preview`: {step, total, width, height, image: data URL}). Reads the SSE
 * stream; if the stream ends early (proxy, network), polls the job instead. Resolves with the final job.
 */
export async function followJob(id, onJob, { signal, onPreview } = {}) {
  try {
    const res = await fetch(`v1/jobs/${encodeURIComponent(id)}/events`, { headers: headers({ accept: 'text/event-stream' }), signal });
    if (!res.ok || !res.body) throw new ApiError(res.status, await res.json().catch(() => null));
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseEvent(block);
        if (!event || !event.data) continue;
        const payload = JSON.parse(event.data);
        if (event.type === 'error') throw new ApiError(payload.status ?? 500, payload);
        if (event.type === 'preview') { onPreview?.(payload); continue; }
        onJob(payload.job, event.type);
        if (TERMINAL.has(payload.job.status)) {
          reader.cancel().catch(() => {});
          return payload.job;
        }
      }
    }
  } catch (err) {
    if (signal?.aborted) throw err;
    if (err instanceof ApiError && err.status >= 400 && err.status < 500) throw err;
  }
  // The stream ended before the job did: poll.
  for (;;) {
    const job = await getJob(id);
    onJob(job, 'poll');
    if (TERMINAL.has(job.status)) return job;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** One SSE block → {type, data, id}; comment-only blocks (keep-alives) → null. */
function parseEvent(block) {
  let type = 'message';
  const data = [];
  let id;
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  return data.length === 0 ? null : { type, data: data.join('\n'), id };
}
