// Retry timing: the configured schedule (delay before attempt i), overridden by Retry-After on
// 429/503. Pure functions so they are easy to test.

/** Longest Retry-After honoured: beyond a day the receiver is better treated as down. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** `Retry-After` as delta-seconds or an HTTP date → milliseconds from now (undefined if unusable). */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Math.min(Number(s) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}

/** Delay before the next attempt after `attemptsDone` attempts, or undefined when none is left. */
export function nextDelayMs(schedule: readonly number[], attemptsDone: number, retryAfterMs?: number): number | undefined {
  if (attemptsDone >= schedule.length) return undefined;
  return retryAfterMs ?? schedule[attemptsDone];
}
