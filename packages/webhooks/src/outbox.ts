// The webhook outbox drain. The job store's Lua scripts append {job id, event, record snapshot} to
// `<prefix>:outbox` in the same atomic step as the state change, so a crash cannot lose a webhook
// between "job finished" and "webhook queued". This loop (in every worker process, and the API)
// turns each entry into a message on the webhook queue, with the deterministic message id
// `msg_<job>_<event>` (so a duplicate enqueue after a crash collapses into the same BullMQ job),
// and only then removes the entry: at-least-once.
import type { Redis } from 'ioredis';
import { fromHash, outboxKey, type JobRecord } from '@sdsvc/jobs';
import type { WebhookDispatcher } from './dispatcher.ts';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './types.ts';

export interface OutboxEntry { id: string; type: WebhookEventType; seq: number; record: JobRecord }

export interface OutboxDrainOptions {
  /** A command connection (not a blocking one). */
  redis: Redis;
  prefix: string;
  dispatcher: WebhookDispatcher;
  /** The payload's `data` for this event (the job resource as it was at the event). */
  render(entry: OutboxEntry): Promise<unknown>;
  /** Poll period when nothing kicks the loop (default 1000 ms). */
  intervalMs?: number;
  onError?(err: unknown, entry?: OutboxEntry): void;
}

export interface OutboxDrain {
  /** One pass now; resolves with the number of entries moved to the webhook queue. */
  drainOnce(): Promise<number>;
  /** Ask for a pass soon (after a local transition wrote to the outbox). */
  kick(): void;
  close(): Promise<void>;
}

const BATCH = 100;

function eventTime(entry: OutboxEntry): Date {
  const r = entry.record;
  const at = entry.type === 'job.started' ? r.started_at : (r.finished_at ?? r.started_at);
  return at ? new Date(at) : new Date();
}

export function startOutboxDrain(opts: OutboxDrainOptions): OutboxDrain {
  const key = outboxKey(opts.prefix);
  let running: Promise<number> | null = null;
  let again = false;
  let closed = false;

  const pass = async (): Promise<number> => {
    let moved = 0;
    for (;;) {
      const raws = await opts.redis.lrange(key, 0, BATCH - 1);
      if (raws.length === 0) return moved;
      for (const raw of raws) {
        let entry: OutboxEntry;
        try {
          const parsed = JSON.parse(raw) as { id: string; type: string; seq: number; record: Record<string, string> };
          if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(parsed.type)) throw new Error(`unknown outbox event ${parsed.type}`);
          entry = { id: parsed.id, type: parsed.type as WebhookEventType, seq: parsed.seq, record: fromHash(parsed.record) };
        } catch (err) {
          opts.onError?.(err);
          await opts.redis.lrem(key, 1, raw); // unreadable: it can never be sent
          continue;
        }
        const data = await opts.render(entry);
        await opts.dispatcher.notify(entry.record, entry.type, data, { timestamp: eventTime(entry) });
        await opts.redis.lrem(key, 1, raw);
        moved++;
      }
      if (raws.length < BATCH) return moved;
    }
  };

  const run = (): Promise<number> => {
    if (running) { again = true; return running; }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          total += await pass();
        } while (again && !closed);
      } finally {
        running = null;
      }
      return total;
    })();
    return running;
  };

  const tick = () => { void run().catch((err: unknown) => opts.onError?.(err)); };
  const timer = setInterval(tick, opts.intervalMs ?? 1000);
  timer.unref();
  tick();

  return {
    drainOnce: run,
    kick: tick,
    async close() {
      closed = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
