// GET /v1/models
import { z } from 'zod';
import { JobType } from './common.ts';

export const ModelSummary = z.object({
  id: z.string(),
  kind: z.string().describe('Architecture family: sd1, sd2, sdxl, …'),
  capabilities: z.array(JobType),
  native_size: z.object({ width: z.int(), height: z.int() }),
  size_step: z.int().describe('width and height must be multiples of this'),
  default_scheduler: z.string(),
  schedulers: z.array(z.string()).describe('Scheduler names a job may use (lower case), besides `default` (the model\'s own, `default_scheduler`)'),
  default: z.boolean().describe('True for DEFAULT_MODEL'),
});
export type ModelSummary = z.infer<typeof ModelSummary>;

export const ModelList = z.object({ data: z.array(ModelSummary) });
export type ModelList = z.infer<typeof ModelList>;
