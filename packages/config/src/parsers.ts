// zod schemas for the textual forms environment variables take (booleans, durations, sizes, lists).
// Each takes the raw string and yields a typed value or a readable issue.
import { z } from 'zod';

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export function parseBoolean(raw: string): boolean | undefined {
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return undefined;
}

export const booleanVar = z.string().transform((raw, ctx) => {
  const v = parseBoolean(raw);
  if (v === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a boolean (true/false/1/0/yes/no), got "${raw}"` });
    return z.NEVER;
  }
  return v;
});

export function intVar(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.string().transform((raw, ctx) => {
    const s = raw.trim();
    if (!/^-?\d+$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: `expected an integer, got "${raw}"` });
      return z.NEVER;
    }
    const n = Number(s);
    if (n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected an integer in ${min}…${max}, got ${n}` });
      return z.NEVER;
    }
    return n;
  });
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "250ms", "5s", "5m", "2h", "1d" → milliseconds; a bare "0" is allowed. Units are required
 * otherwise, so "5" cannot be silently read as 5 ms when seconds were meant. */
export function parseDuration(raw: string): number | undefined {
  const s = raw.trim();
  if (s === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]]);
}

export const durationListVar = z.string().transform((raw, ctx) => {
  const parts = raw.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'expected at least one duration' });
    return z.NEVER;
  }
  const out: number[] = [];
  for (const p of parts) {
    const ms = parseDuration(p);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${p}" is not a duration (use 0 or a number with ms, s, m, h or d)` });
      return z.NEVER;
    }
    out.push(ms);
  }
  return out;
});

/** One duration ("30s", "7d") → milliseconds, at least 1 s. */
export const durationVar = z.string().transform((raw, ctx) => {
  const ms = parseDuration(raw);
  if (ms === undefined || ms < 1000) {
    ctx.addIssue({ code: 'custom', message: `"${raw}" is not a duration of at least 1s (use a number with s, m, h or d)` });
    return z.NEVER;
  }
  return ms;
});

const BYTE_UNITS: Record<string, number> = {
  '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};

/** "1048576", "20MiB", "10MB" → bytes. */
export function parseBytes(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  return Math.floor(Number(m[1]) * unit);
}

export const bytesVar = z.string().transform((raw, ctx) => {
  const v = parseBytes(raw);
  if (v === undefined || v <= 0) {
    ctx.addIssue({ code: 'custom', message: `expected a positive size in bytes (e.g. 1048576 or 20MiB), got "${raw}"` });
    return z.NEVER;
  }
  return v;
});

export function listVar<T extends string>(allowed?: readonly T[]) {
  return z.string().transform((raw, ctx) => {
    const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (allowed) {
      const bad = items.filter((i) => !(allowed as readonly string[]).includes(i));
      if (bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `unknown value(s) ${bad.map((b) => `"${b}"`).join(', ')}; allowed: ${allowed.join(', ')}` });
        return z.NEVER;
      }
    }
    return items as T[];
  });
}

export function urlVar(protocols: readonly string[]) {
  return z.string().transform((raw, ctx) => {
    let u: URL;
    try {
      u = new URL(raw.trim());
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected a URL, got "${raw}"` });
      return z.NEVER;
    }
    if (!protocols.includes(u.protocol)) {
      ctx.addIssue({ code: 'custom', message: `expected a ${protocols.join(' or ')} URL, got "${raw}"` });
      return z.NEVER;
    }
    return raw.trim();
  });
}

export function enumVar<T extends string>(values: readonly [T, ...T[]]) {
  return z.string().transform((raw, ctx) => {
    const v = raw.trim() as T;
    if (!values.includes(v)) {
      ctx.addIssue({ code: 'custom', message: `expected one of ${values.join(', ')}, got "${raw}"` });
      return z.NEVER;
    }
    return v;
  });
}
