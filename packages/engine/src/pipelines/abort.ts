/** Cancellation between steps and images: an Error named 'AbortError', as fetch and AbortSignal do. */
export function abortError(reason?: unknown): Error {
  const err = new Error(reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'generation aborted');
  err.name = 'AbortError';
  return err;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal.reason);
}

/** A cancellation point: lets the caller refresh the signal (`poll`), then throws if it has aborted. */
export function checkpoint(opts: { signal?: AbortSignal; poll?: () => void }): void {
  opts.poll?.();
  throwIfAborted(opts.signal);
}
