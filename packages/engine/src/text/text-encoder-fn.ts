/**
 * The seam between the pipeline and prompt handling: whoever turns a prompt into embeddings gets a
 * function that runs the text encoder on whole rows of token ids.
 */

/** Runs the text encoder on `rows` rows of 77 ids (ids.length = rows × 77); returns rows × 77 × hidden. */
export type RunTextEncoder = (ids: Int32Array, rows: number) => Promise<Float32Array>;

/** Embeddings of one prompt: `tokens` rows of `hidden` floats (77 per chunk; several chunks for long A1111 prompts). */
export interface PromptEmbeddings {
  data: Float32Array;
  tokens: number;
  hidden: number;
}

/** The tokenizer surface prompt handling needs (ClipTokenizer satisfies it). */
export interface PromptTokenizer {
  encode(text: string): number[];
  encodeForModel(text: string, opts?: { truncation?: boolean }): Int32Array;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  readonly modelMaxLength: number;
}

export interface EncodePromptPairInput {
  tokenizer: PromptTokenizer;
  runTextEncoder: RunTextEncoder;
  hidden: number;
  prompt: string;
  negativePrompt: string;
  /** false when guidance ≤ 1: the negative side is not encoded at all. */
  withNegative: boolean;
  /**
   * A1111 syntax: pad both sides to at least this many 75-token chunks (SDXL's two encoders must
   * give the same token count when prompt and prompt_2 differ in length). Plain syntax ignores it.
   */
  minChunks?: number;
}

/** Conditional and (when asked) unconditional embeddings with the same token count. */
export interface EncodedPromptPair {
  cond: PromptEmbeddings;
  uncond: PromptEmbeddings | null;
}

/**
 * What prompt-conditioning.ts (A1111 weights and 75-token chunks) exports as
 * `encodePromptPairA1111`; encode-prompt.ts loads it lazily for promptSyntax 'a1111'.
 */
export type EncodePromptPairFn = (input: EncodePromptPairInput) => Promise<EncodedPromptPair>;
