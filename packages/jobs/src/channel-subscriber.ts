// One Redis subscriber connection shared by every channel a process follows (SSE clients can be
// many; each job's events are one channel). It is opened on first use from the command connection,
// with an offline queue (SUBSCRIBE has to wait for the connection to open; the command connection
// may fail fast), and ioredis re-subscribes by itself after a drop.
import type { Redis } from 'ioredis';

export class ChannelSubscriber {
  readonly #redis: Redis;
  #subscriber: Redis | null = null;
  readonly #handlers = new Map<string, Set<(msg: string) => void>>();
  readonly #subscribing = new Map<string, Promise<unknown>>();
  readonly #resubscribed = new Set<() => void>();

  /** `redis`: the command connection the subscriber is duplicated from. */
  constructor(redis: Redis) {
    this.#redis = redis;
  }

  /** Calls `handler` with each message on `channel` once subscribed; returns unsubscribe. */
  async listen(channel: string, handler: (msg: string) => void): Promise<() => Promise<void>> {
    const sub = this.#open();
    let set = this.#handlers.get(channel);
    if (!set) {
      set = new Set();
      this.#handlers.set(channel, set);
      this.#subscribing.set(channel, sub.subscribe(channel));
    }
    set.add(handler);
    try {
      await this.#subscribing.get(channel); // a second caller waits for the same SUBSCRIBE
    } catch (err) {
      // Redis unreachable (command timeout): forget this channel so a later call subscribes anew.
      set.delete(handler);
      if (set.size === 0 && this.#handlers.get(channel) === set) {
        this.#handlers.delete(channel);
        this.#subscribing.delete(channel);
      }
      throw err;
    }
    return async () => {
      const s = this.#handlers.get(channel);
      if (!s || !s.delete(handler) || s.size > 0) return;
      this.#handlers.delete(channel);
      this.#subscribing.delete(channel);
      if (this.#subscriber === sub) await sub.unsubscribe(channel).catch(() => {});
    };
  }

  /** Called each time the connection is back after a drop (messages published while it was away
   *  are lost: listeners re-read what they follow). Returns a remover. */
  onResubscribed(listener: () => void): () => void {
    this.#resubscribed.add(listener);
    return () => { this.#resubscribed.delete(listener); };
  }

  async close(): Promise<void> {
    const sub = this.#subscriber;
    this.#subscriber = null;
    this.#handlers.clear();
    this.#subscribing.clear();
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }

  #open(): Redis {
    if (this.#subscriber) return this.#subscriber;
    const sub = this.#redis.duplicate({ enableOfflineQueue: true });
    let wasReady = false;
    sub.on('ready', () => {
      if (wasReady) for (const l of this.#resubscribed) { try { l(); } catch { /* listeners own their errors */ } }
      wasReady = true;
    });
    sub.on('message', (ch: string, msg: string) => {
      for (const h of this.#handlers.get(ch) ?? []) {
        try { h(msg); } catch { /* one bad handler must not starve the others */ }
      }
    });
    sub.on('error', () => { /* ioredis reconnects; errors surface on the command path */ });
    this.#subscriber = sub;
    return sub;
  }
}
