export { parsePromptAttention, isBreak, type WeightedFragment } from './attention.ts';
export { extractInlineNegatives, type InlineNegativesResult } from './inline-negatives.ts';
export { extractImageTag, type ReferenceImage, type ImageTagResult } from './image-tag.ts';
export { extractLoraTags, LORA_TAG_SCALE_LIMIT, type LoraTag, type LoraTagResult } from './lora-tag.ts';
export { processPrompt, type PromptInput, type ProcessedPrompt } from './process-prompt.ts';
export { PromptSyntaxError, type PromptErrorCode, type PromptField, type PromptWarning } from './errors.ts';
