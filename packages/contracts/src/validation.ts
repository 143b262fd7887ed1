// zod issues → stable field errors (the `errors[]` of a validation problem).
import type { z } from 'zod';
import type { FieldError } from './problem.ts';

function dotted(path: ReadonlyArray<PropertyKey>): string {
  return path.map(String).join('.');
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = input;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function codeOf(issue: z.core.$ZodIssue, input: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return valueAt(input, issue.path) === undefined ? 'required' : 'invalid_type';
    case 'too_small': return 'too_small';
    case 'too_big': return 'too_big';
    case 'invalid_value': return 'invalid_value';
    case 'not_multiple_of': return 'not_multiple_of';
    case 'invalid_format': return 'invalid_format';
    case 'custom': {
      const code = (issue.params as { code?: unknown } | undefined)?.code;
      return typeof code === 'string' ? code : 'invalid';
    }
    default: return 'invalid';
  }
}

/** `input` is the parsed value: a missing field is reported as `required`, a wrong one as `invalid_type`. */
export function fieldErrors(error: z.ZodError, input?: unknown): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: dotted([...issue.path, key]), code: 'unknown_field', message: `unknown field "${key}"` });
      }
      continue;
    }
    const code = codeOf(issue, input);
    const path = dotted(issue.path);
    if (out.some((e) => e.path === path && e.code === code)) continue; // zod may report one bound twice
    const message = issue.code === 'invalid_type' && code === 'required' ? `${path} is required` : issue.message;
    out.push({ path, code, message });
  }
  return out;
}
