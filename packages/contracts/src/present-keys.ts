// Validation of a wide strict-object request by the keys a body actually has. zod's object parser
// runs every field's schema for every body, present or not (CreateJobRequest has 45 fields; a
// typical body sends 5 to 10): for a plain `.optional()` field that is absent, that run adds
// nothing to the output and no issue, only work. So a body is parsed by the schema picked down to
// its own keys plus the fields whose absence means something (required ones, defaults), built once
// per key set and kept. The field schemas, the refinement, the output and the issues are the full
// schema's; a body with a key the schema does not know (or not an object) takes the full schema,
// which reports it.
import type { z } from 'zod';

type AnyObject = z.ZodObject<z.core.$ZodLooseShape, z.core.$strict>;
type Refine<Out> = (value: Out, ctx: z.core.$RefinementCtx<Out>) => void;
type SafeParser<Out> = { safeParse(input: unknown): z.ZodSafeParseResult<Out> };

export interface PresentKeysParser<Out> extends SafeParser<Out> {
  /** Key sets with a schema of their own so far (bounded by `maxKeySets`). */
  readonly keySets: number;
}

/** A plain optional field: absent, it contributes nothing (zod's optin and optout both 'optional'). */
function droppableWhenAbsent(field: z.core.$ZodType): boolean {
  return field._zod.optin === 'optional' && field._zod.optout === 'optional';
}

/**
 * `full` is `base.superRefine(refine)`: what every body is checked against. Bodies whose key set
 * is new after `maxKeySets` sets take `full` (no unbounded cache from clients that vary keys).
 */
export function presentKeysParser<Out>(base: AnyObject, refine: Refine<Out>, full: SafeParser<Out>, maxKeySets = 256): PresentKeysParser<Out> {
  const shape = base.shape;
  const fieldNames = Object.keys(shape);
  const alwaysRun = new Set(fieldNames.filter((k) => !droppableWhenAbsent(shape[k]!)));
  const bySignature = new Map<string, SafeParser<Out>>();

  function schemaFor(input: Record<string, unknown>): SafeParser<Out> {
    const keys = Object.keys(input);
    const signature = keys.join('\u0000');
    const known = bySignature.get(signature);
    if (known) return known;
    for (const k of keys) if (!Object.hasOwn(shape, k)) return full; // the full schema names the unknown key
    if (bySignature.size >= maxKeySets) return full;
    const present = new Set(keys);
    // In the shape's order, as the full schema builds its output and lists its issues.
    const mask: Record<string, true> = {};
    for (const k of fieldNames) if (present.has(k) || alwaysRun.has(k)) mask[k] = true;
    const picked = (base.pick(mask) as unknown as AnyObject).superRefine(refine as Refine<unknown>) as unknown as SafeParser<Out>;
    bySignature.set(signature, picked);
    return picked;
  }

  return {
    safeParse(input) {
      const plain = typeof input === 'object' && input !== null && !Array.isArray(input) && Object.getPrototypeOf(input) === Object.prototype;
      return (plain ? schemaFor(input as Record<string, unknown>) : full).safeParse(input);
    },
    get keySets() { return bySignature.size; },
  };
}
