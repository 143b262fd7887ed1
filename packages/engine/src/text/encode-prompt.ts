/**
 * Prompt → embeddings. 'plain' is diffusers' semantics (truncate to 77 ids, no weights, negative
 * "" when absent); 'a1111' hands over to prompt-conditioning.ts (weights, chunks of 75 tokens).
 */
import type { EncodePromptPairInput, EncodedPromptPair } from './text-encoder-fn.ts';
import { encodePromptPairA1111 } from './prompt-conditioning.ts';

export type PromptSyntax = 'plain' | 'a1111';

/** diffusers' encode_prompt: both prompts padded/truncated to 77 ids, encoded in one batch. */
export async function encodePromptPairPlain(input: EncodePromptPairInput): Promise<EncodedPromptPair> {
  const { tokenizer, runTextEncoder, hidden } = input;
  const len = tokenizer.modelMaxLength;
  const cond = tokenizer.encodeForModel(input.prompt, { truncation: true });
  if (!input.withNegative) {
    const data = await runTextEncoder(cond, 1);
    return { cond: { data, tokens: len, hidden }, uncond: null };
  }
  const ids = new Int32Array(2 * len);
  ids.set(tokenizer.encodeForModel(input.negativePrompt, { truncation: true }), 0);
  ids.set(cond, len);
  const both = await runTextEncoder(ids, 2);
  const row = len * hidden;
  return {
    cond: { data: both.subarray(row, 2 * row), tokens: len, hidden },
    uncond: { data: both.subarray(0, row), tokens: len, hidden },
  };
}

export async function encodePromptPair(input: EncodePromptPairInput, syntax: PromptSyntax = 'plain'): Promise<EncodedPromptPair> {
  return syntax === 'a1111' ? encodePromptPairA1111(input) : encodePromptPairPlain(input);
}
