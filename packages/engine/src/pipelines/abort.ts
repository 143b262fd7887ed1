/** Cancellation between steps: an Error named 'AbortError', as fetch and AbortSignal do. */
export function abortError(reason?: unknown): Error {
  const err = new Error(reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'generation aborted');
  err.name = 'AbortError';
  return err;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal.reason);
}
