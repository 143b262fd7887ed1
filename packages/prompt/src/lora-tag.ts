// A1111's LoRA tags: `<lora:name>` and `<lora:name:0.8>` are cut out of the prompt and returned
// as LoRAs to apply (scale 1 by default, −4…4). Whether the name exists is the caller's business.
import { PromptSyntaxError, type PromptField } from './errors.ts';
import { joinAround } from './text-edit.ts';

export interface LoraTag {
  name: string;
  scale: number;
}

export interface LoraTagResult {
  text: string;
  loras: LoraTag[];
}

export const LORA_TAG_SCALE_LIMIT = 4;

const LORA_TAG = /<\s*lora\s*:([^<>]*)>/gi;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function parseTag(body: string, raw: string, field: PromptField): LoraTag {
  const parts = body.split(':').map((p) => p.trim());
  const name = parts[0]!;
  if (name === '') throw new PromptSyntaxError('prompt_lora_tag_invalid', field, `${raw}: the LoRA tag has no name (write <lora:name> or <lora:name:0.8>)`);
  if (parts.length > 2) throw new PromptSyntaxError('prompt_lora_tag_invalid', field, `${raw}: write <lora:name> or <lora:name:scale> (separate text-encoder/UNet weights are not supported)`);
  if (parts.length === 1) return { name, scale: 1 };
  const s = parts[1]!;
  if (!NUMBER.test(s)) throw new PromptSyntaxError('prompt_lora_tag_invalid', field, `${raw}: the scale "${s}" is not a number`);
  const scale = Number(s);
  if (Math.abs(scale) > LORA_TAG_SCALE_LIMIT) {
    throw new PromptSyntaxError('prompt_lora_tag_invalid', field, `${raw}: the scale ${scale} is outside −${LORA_TAG_SCALE_LIMIT}…${LORA_TAG_SCALE_LIMIT}`);
  }
  return { name, scale };
}

/** Cuts every LoRA tag out of `text`; in the negative prompt a tag is an error. */
export function extractLoraTags(text: string, field: PromptField = 'prompt'): LoraTagResult {
  if (!text.includes('<')) return { text, loras: [] }; // no tag can start: skip the scan
  const matches = [...text.matchAll(LORA_TAG)];
  if (matches.length === 0) return { text, loras: [] };
  if (field === 'negative_prompt') {
    throw new PromptSyntaxError('prompt_lora_tag_invalid', field, `${matches[0]![0]}: LoRA tags belong in the prompt, not the negative prompt`);
  }
  const loras = matches.map((m) => parseTag(m[1]!, m[0], field));
  let out = '';
  let at = 0;
  for (const m of matches) {
    out = joinAround(out + text.slice(at, m.index), '');
    at = m.index + m[0].length;
  }
  return { text: joinAround(out, text.slice(at)), loras };
}
