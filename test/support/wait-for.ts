// Polls a condition until it holds: tests wait for states, never for fixed durations.
export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
  const suffix = lastError ? ` (last error: ${(lastError as Error).message})` : '';
  throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${suffix}`);
}
