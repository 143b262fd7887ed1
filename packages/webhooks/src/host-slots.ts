// Bounded deliveries per destination: one slow or dead receiver may hold at most `limit` of a
// worker's delivery slots, so messages for every other receiver keep flowing.

/** The destination a URL delivers to: host and port (two receivers on one host name differ by port). */
export function destinationOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return url;
  }
}

export class HostSlots {
  readonly limit: number;
  readonly #inFlight = new Map<string, number>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`per-host concurrency must be a positive integer (got ${limit})`);
    this.limit = limit;
  }

  /** A release function when a slot for `host` is free, else null (the host is saturated). */
  tryAcquire(host: string): (() => void) | null {
    const n = this.#inFlight.get(host) ?? 0;
    if (n >= this.limit) return null;
    this.#inFlight.set(host, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inFlight.get(host) ?? 1) - 1;
      if (left <= 0) this.#inFlight.delete(host);
      else this.#inFlight.set(host, left);
    };
  }

  inFlight(host: string): number {
    return this.#inFlight.get(host) ?? 0;
  }
}
