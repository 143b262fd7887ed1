// The whole prompt language in one call: reference-image tag, inline negatives, then A1111 weights.
import { parsePromptAttention, type WeightedFragment } from './attention.ts';
import type { PromptWarning } from './errors.ts';
import { extractImageTag, type ReferenceImage } from './image-tag.ts';
import { extractInlineNegatives } from './inline-negatives.ts';
import { extractLoraTags, type LoraTag } from './lora-tag.ts';

export interface PromptInput {
  prompt: string;
  negativePrompt?: string | null;
}

export interface ProcessedPrompt {
  /** Positive text with tags and inline negatives removed; weight syntax kept. */
  prompt: string;
  /** Explicit negative prompt, then the inline negatives, joined with ", ". */
  negativePrompt: string;
  weights: { positive: WeightedFragment[]; negative: WeightedFragment[] };
  referenceImage: ReferenceImage | null;
  /** `<lora:name:scale>` tags, in prompt order (removed from the text). */
  loras: LoraTag[];
  warnings: PromptWarning[];
}

/** Throws `PromptSyntaxError` for problems that must be a 400 (see errors.ts); never throws otherwise. */
export function processPrompt(input: PromptInput): ProcessedPrompt {
  const explicitNegative = (input.negativePrompt ?? '').trim();
  // A tag in the negative prompt is an error; checked first so it wins over positive-side errors.
  extractImageTag(explicitNegative, 'negative_prompt');
  extractLoraTags(explicitNegative, 'negative_prompt');

  const withoutLoras = extractLoraTags(input.prompt, 'prompt');
  const tagged = extractImageTag(withoutLoras.text, 'prompt');
  const inline = extractInlineNegatives(tagged.text);
  const prompt = inline.text.trim();
  const negativePrompt = [explicitNegative, ...inline.negatives].filter((s) => s !== '').join(', ');

  return {
    prompt,
    negativePrompt,
    weights: { positive: parsePromptAttention(prompt), negative: parsePromptAttention(negativePrompt) },
    referenceImage: tagged.referenceImage,
    loras: withoutLoras.loras,
    warnings: inline.warnings,
  };
}
