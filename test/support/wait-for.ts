// Polls a condition until it holds: tests wait for states, never for fixed durations.

/**
 * Thrown (by a check, or returned by `failFast`) when waiting longer cannot help — a process that
 * should produce the state has exited. waitFor rethrows it at once instead of polling on.
 */
export class WaitAborted extends Error {
  override name = 'WaitAborted';
}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  what?: string;
  /** Checked before every poll: an Error (or message) ends the wait at once with it. */
  failFast?: () => Error | string | undefined | null | false;
}

export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let lastError: unknown;
  for (;;) {
    const fatal = opts.failFast?.();
    if (fatal) throw fatal instanceof Error ? fatal : new WaitAborted(`${opts.what ?? 'condition'}: ${fatal}`);
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      if (err instanceof WaitAborted) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
  const suffix = lastError ? ` (last error: ${(lastError as Error).message})` : '';
  throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${suffix}`);
}
