// LoRA adapters: the job field `loras`, the LoRAs a job's params echo, and GET /v1/loras.
import { z } from 'zod';

/** Absolute cap on the `loras` list; MAX_LORAS_PER_JOB (default 4) is the configured limit. */
export const MAX_LORAS_IN_SCHEMA = 32;
export const LORA_SCALE_LIMIT = 4;

/** A path below LORA_DIR without `.safetensors`: letters, digits, `_ . + -` and spaces, `/` between folders. */
export const LORA_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.+ -]*(\/[A-Za-z0-9_][A-Za-z0-9_.+ -]*)*$/;

export const LoraName = z.string().min(1).max(200).regex(LORA_ID_PATTERN)
  .describe('LoRA id: its path below LORA_DIR without .safetensors (GET /v1/loras)');

export const LoraScale = z.number().min(-LORA_SCALE_LIMIT).max(LORA_SCALE_LIMIT);

export const LoraRef = z.strictObject({
  name: LoraName.optional(),
  url: z.url({ protocol: /^https?$/ }).max(2048).optional()
    .describe('https URL of a .safetensors LoRA instead of a name (only with ALLOW_LORA_URLS=true): fetched under the image URL rules, at most MAX_LORA_BYTES, cached by sha256'),
  scale: LoraScale.default(1).describe('Strength: W + scale · (alpha / rank) · up · down (−4…4, default 1)'),
}).superRefine((v, ctx) => {
  if ((v.name === undefined) === (v.url === undefined)) {
    const code = v.name === undefined ? 'required' : 'conflict';
    ctx.addIssue({ code: 'custom', path: ['name'], message: 'give either name or url', params: { code } });
  }
});
export type LoraRef = z.output<typeof LoraRef>;

export const AppliedLora = z.object({
  name: z.string().describe('The LoRA id, or the URL for a LoRA given by URL'),
  url: z.string().optional().describe('Set for a LoRA given by URL'),
  sha256: z.string().describe('sha256 of the file that was applied'),
  scale: z.number(),
});
export type AppliedLora = z.infer<typeof AppliedLora>;

export const LoraSummary = z.object({
  id: z.string().describe('Path below LORA_DIR without .safetensors: the name jobs use'),
  bytes: z.int(),
  sha256: z.string(),
  naming: z.enum(['kohya', 'diffusers', 'peft']).nullable().describe('Key naming of the file (null when it cannot be read)'),
  ranks: z.array(z.int()).describe('Distinct LoRA ranks in the file'),
  components: z.array(z.enum(['unet', 'text_encoder', 'text_encoder_2'])).describe('Model parts it changes'),
  error: z.string().nullable().describe('Why the file cannot be used (malformed), or null'),
});
export type LoraSummary = z.infer<typeof LoraSummary>;

export const LoraList = z.object({ data: z.array(LoraSummary) });
export type LoraList = z.infer<typeof LoraList>;
