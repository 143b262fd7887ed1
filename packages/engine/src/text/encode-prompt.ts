/**
 * Prompt → embeddings. 'plain' is diffusers' semantics (truncate to 77 ids, no weights, negative
 * "" when absent); 'a1111' hands over to prompt-conditioning.ts (weights, chunks of 75 tokens).
 */
import type { EncodePromptPairFn, EncodePromptPairInput, EncodedPromptPair } from './text-encoder-fn.ts';

export type PromptSyntax = 'plain' | 'a1111';

let a1111: EncodePromptPairFn | null = null;

async function loadA1111(): Promise<EncodePromptPairFn> {
  if (a1111) return a1111;
  const specifier = './prompt-conditioning.ts'; // written separately; loaded only when asked for
  const mod = (await import(specifier)) as { encodePromptPairA1111?: EncodePromptPairFn };
  if (typeof mod.encodePromptPairA1111 !== 'function') throw new Error('prompt-conditioning.ts does not export encodePromptPairA1111');
  a1111 = mod.encodePromptPairA1111;
  return a1111;
}

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
  if (syntax === 'plain') return encodePromptPairPlain(input);
  return (await loadA1111())(input);
}
