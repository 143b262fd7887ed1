// `Prefer: wait=N` (RFC 7240): hold the answer up to N seconds (at most 60).
export const MAX_WAIT_SECONDS = 60;

export function preferredWait(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return null;
  for (const pref of value.split(',')) {
    const m = /^\s*wait\s*=\s*"?(\d+)"?\s*(;.*)?$/i.exec(pref);
    if (m) return Math.min(Number(m[1]), MAX_WAIT_SECONDS);
  }
  return null;
}
