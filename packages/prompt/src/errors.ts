// Prompt problems that must reach the user as a 400: `code` is stable (API clients match on it),
// `field` names the request field the problem was found in.

export type PromptErrorCode =
  | 'prompt_multiple_image_tags'
  | 'prompt_image_tag_invalid'
  | 'prompt_image_tag_in_negative'
  | 'prompt_lora_tag_invalid';

export type PromptField = 'prompt' | 'negative_prompt';

export class PromptSyntaxError extends Error {
  override name = 'PromptSyntaxError';
  readonly code: PromptErrorCode;
  readonly field: PromptField;
  constructor(code: PromptErrorCode, field: PromptField, message: string) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

/** Non-fatal notes about the prompt (the text is still used, literally, as A1111 would). */
export interface PromptWarning {
  code: 'prompt_inline_negative_ignored';
  message: string;
}
