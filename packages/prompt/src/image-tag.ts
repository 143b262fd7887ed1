// `{image}` / `{image:https://…}` reference-image tags (seed convention). `\{image}` is left as
// text. At most one tag per job; none in the negative prompt.
import { PromptSyntaxError, type PromptField } from './errors.ts';
import { joinAround, maskEscapes } from './text-edit.ts';

export type ReferenceImage = { source: 'job' } | { source: 'url'; url: string };

// `{image}` or `{image:<anything but braces>}`, whitespace tolerated around the parts.
const IMAGE_TAG = /\{\s*image\s*(?::([^{}]*))?\}/gi;

export interface ImageTagResult {
  text: string;
  referenceImage: ReferenceImage | null;
}

export function extractImageTag(text: string, field: PromptField = 'prompt'): ImageTagResult {
  if (!text.includes('{')) return { text, referenceImage: null }; // no tag can start: skip the scan
  const matches = [...maskEscapes(text).matchAll(IMAGE_TAG)];
  if (matches.length === 0) return { text, referenceImage: null };
  if (field === 'negative_prompt') {
    throw new PromptSyntaxError('prompt_image_tag_in_negative', field, 'an {image} tag cannot be used in the negative prompt');
  }
  if (matches.length > 1) {
    throw new PromptSyntaxError('prompt_multiple_image_tags', field, `the prompt has ${matches.length} {image} tags; at most one is allowed`);
  }
  const m = matches[0];
  const start = m.index;
  const end = start + m[0].length;
  // Read the URL from the original text (the masked copy hides escaped characters).
  const rawUrl = m[1] === undefined ? undefined : text.slice(end - 1 - m[1].length, end - 1).trim();
  return {
    text: joinAround(text.slice(0, start), text.slice(end)),
    referenceImage: rawUrl === undefined ? { source: 'job' } : { source: 'url', url: checkUrl(rawUrl, field) },
  };
}

// Only the shape is checked here; the fetcher applies the address and size rules.
function checkUrl(raw: string, field: PromptField): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PromptSyntaxError('prompt_image_tag_invalid', field, `{image:…} needs an absolute https URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PromptSyntaxError('prompt_image_tag_invalid', field, `{image:…} needs an https URL, got scheme ${url.protocol}`);
  }
  return url.href;
}
