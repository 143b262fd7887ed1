// MODEL_LIMITS: per-model cost limits over the global MAX_* defaults, as JSON
// `{"<model id>": {"max_output_pixels": n, "max_steps": n, "max_num_images": n}}` (any subset).
import { z } from 'zod';

export interface CostLimitOverrides {
  maxOutputPixels?: number;
  maxSteps?: number;
  maxNumImages?: number;
}

const Entry = z.object({
  max_output_pixels: z.int().min(1).optional(),
  max_steps: z.int().min(1).max(150).optional(),
  max_num_images: z.int().min(1).max(8).optional(),
}).strict();

const Table = z.record(z.string().min(1), Entry);

export const modelLimitsVar = z.string().transform((raw, ctx) => {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected JSON: {"<model id>": {"max_output_pixels": n, "max_steps": n, "max_num_images": n}}' });
    return z.NEVER;
  }
  const r = Table.safeParse(json);
  if (!r.success) {
    ctx.addIssue({ code: 'custom', message: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') });
    return z.NEVER;
  }
  const out: Record<string, CostLimitOverrides> = {};
  for (const [id, e] of Object.entries(r.data)) {
    out[id] = {
      ...(e.max_output_pixels !== undefined ? { maxOutputPixels: e.max_output_pixels } : {}),
      ...(e.max_steps !== undefined ? { maxSteps: e.max_steps } : {}),
      ...(e.max_num_images !== undefined ? { maxNumImages: e.max_num_images } : {}),
    };
  }
  return out;
});
