// Minimal Server-Sent Events reader over fetch: collects `event:`/`data:` frames until the stream
// ends or a terminal event arrives.
export interface SseEvent { event: string; data: unknown; id?: string }

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

export async function collectSse(url: string, opts: { headers?: Record<string, string>; timeoutMs?: number; onEvent?: (e: SseEvent) => void } = {}): Promise<SseEvent[]> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), opts.timeoutMs ?? 90_000);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...opts.headers }, signal: ctrl.signal });
    if (!res.ok || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let sep: number;
      while ((sep = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const frame = buffer.slice(0, sep);
        buffer = buffer.slice(sep).replace(/^\r?\n\r?\n/, '');
        const event = parseFrame(frame);
        if (!event) continue;
        events.push(event);
        opts.onEvent?.(event);
        if (TERMINAL.has(event.event)) return events;
      }
    }
    return events;
  } finally {
    clearTimeout(timer);
    ctrl.abort();
  }
}

function parseFrame(frame: string): SseEvent | null {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of frame.split(/\r?\n/)) {
    if (line.startsWith(':')) continue; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (data.length === 0) return null;
  const text = data.join('\n');
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* plain text data */ }
  return { event, data: parsed, id };
}
