/**
 * SDXL's encode_prompt (diffusers 0.27.2 StableDiffusionXLPipeline.encode_prompt) over any number
 * of CLIP encoders (two for SDXL base, text_encoder_2 alone for a refiner):
 * - encoder i sees prompts[i] of [prompt, prompt_2 || prompt] (zip: a lone encoder sees `prompt`),
 *   and negatives [negative || "", negative_2 || negative || ""], each with its own tokenizer;
 * - each encoder gives its penultimate hidden states; they are concatenated along the width, in
 *   encoder order; the pooled embedding is the last encoder's `text_embeds`;
 * - under CFG with no negative prompt (absent, not "") and force_zeros_for_empty_prompt, the
 *   negative embeddings and pooled embeddings are zeros and the encoders do not run for them.
 * The same prompt language as SD 1.x/2.x applies per encoder (encode-prompt.ts): 'plain' is
 * diffusers; 'a1111' weights and chunks each encoder's text, padded to a common chunk count, and
 * takes the pooled embedding of the first chunk (as A1111 does for SDXL).
 */
import { encodePromptPair, type PromptSyntax } from './encode-prompt.ts';
import { countPromptChunks } from './prompt-conditioning.ts';
import type { PromptEmbeddings, PromptTokenizer } from './text-encoder-fn.ts';

export interface SdxlTextEncoder {
  tokenizer: PromptTokenizer;
  /** rows of ids → penultimate hidden states (rows × seq × width) and pooled output (rows × pooled) or null. */
  run(ids: Int32Array, rows: number): Promise<{ hidden: Float32Array; pooled: Float32Array | null }>;
  /** Width of this encoder's hidden states. */
  width: number;
}

export interface SdxlPromptInput {
  encoders: readonly SdxlTextEncoder[];
  prompt: string;
  prompt2?: string;
  /** undefined = no negative prompt (→ zeros under force_zeros_for_empty_prompt); "" is encoded. */
  negativePrompt?: string;
  negativePrompt2?: string;
  /** Classifier-free guidance: whether a negative side is needed at all. */
  withNegative: boolean;
  forceZerosForEmptyPrompt: boolean;
  syntax?: PromptSyntax;
}

export interface SdxlPromptEmbeddings {
  cond: PromptEmbeddings;
  uncond: PromptEmbeddings | null;
  pooled: Float32Array;
  negativePooled: Float32Array | null;
  /** The negative side is zeros (no negative prompt, force_zeros_for_empty_prompt). */
  negativeZeros: boolean;
}

/** The texts each encoder sees, positive and negative (diffusers' `x_2 or x` defaults). */
export function sdxlPromptTexts(input: Pick<SdxlPromptInput, 'prompt' | 'prompt2' | 'negativePrompt' | 'negativePrompt2'>, encoders: number): Array<{ prompt: string; negative: string }> {
  const negative = input.negativePrompt || '';
  const prompts = [input.prompt, input.prompt2 || input.prompt];
  const negatives = [negative, input.negativePrompt2 || negative];
  return Array.from({ length: encoders }, (_, i) => ({ prompt: prompts[i]!, negative: negatives[i]! }));
}

/** Rows of several encoders' embeddings (tokens × w_i each) side by side: tokens × Σ w_i. */
function concatWidths(parts: ReadonlyArray<{ data: Float32Array; width: number }>, tokens: number): Float32Array {
  const total = parts.reduce((n, p) => n + p.width, 0);
  const out = new Float32Array(tokens * total);
  let col = 0;
  for (const { data, width } of parts) {
    for (let t = 0; t < tokens; t++) out.set(data.subarray(t * width, (t + 1) * width), t * total + col);
    col += width;
  }
  return out;
}

export async function encodeSdxlPrompt(input: SdxlPromptInput): Promise<SdxlPromptEmbeddings> {
  const { encoders, withNegative } = input;
  if (encoders.length === 0) throw new Error('SDXL needs at least one text encoder');
  const syntax = input.syntax ?? 'plain';
  const negativeZeros = withNegative && input.negativePrompt === undefined && input.forceZerosForEmptyPrompt;
  const encodeNegative = withNegative && !negativeZeros;
  const texts = sdxlPromptTexts(input, encoders.length);
  // A1111: every encoder must give as many chunks as the longest text of any encoder needs.
  const minChunks = syntax === 'a1111'
    ? Math.max(...texts.flatMap((t, i) => [t.prompt, ...(encodeNegative ? [t.negative] : [])].map((x) => countPromptChunks(encoders[i]!.tokenizer, x))))
    : 1;

  const cond: Array<{ data: Float32Array; width: number }> = [];
  const uncond: Array<{ data: Float32Array; width: number }> = [];
  let pooled: Float32Array | null = null;
  let negativePooled: Float32Array | null = null;
  let tokens = 0;
  for (let i = 0; i < encoders.length; i++) {
    const enc = encoders[i]!;
    let pooledRows: Float32Array | null = null;
    let calls = 0;
    const pair = await encodePromptPair({
      tokenizer: enc.tokenizer, hidden: enc.width, prompt: texts[i]!.prompt, negativePrompt: texts[i]!.negative,
      withNegative: encodeNegative, minChunks,
      runTextEncoder: async (ids, rows) => {
        calls++;
        const out = await enc.run(ids, rows);
        pooledRows = out.pooled;
        return out.hidden;
      },
    }, syntax);
    // Both prompt encoders batch every row in one call, negative rows first; the pooled output of
    // each side is that of its first row (A1111: the first chunk).
    if (calls !== 1) throw new Error(`expected one text encoder call per SDXL encoder, got ${calls}`);
    tokens = pair.cond.tokens;
    if (pair.uncond && pair.uncond.tokens !== tokens) throw new Error(`prompt and negative prompt encode to ${tokens} and ${pair.uncond.tokens} tokens`);
    if (cond.length && tokens !== cond[0]!.data.length / cond[0]!.width) throw new Error('the SDXL encoders encoded different token counts');
    cond.push({ data: pair.cond.data, width: enc.width });
    if (pair.uncond) uncond.push({ data: pair.uncond.data, width: enc.width });
    if (i === encoders.length - 1) {
      const rowsOf = pooledRows as Float32Array | null;
      if (!rowsOf) throw new Error('the last SDXL text encoder gives no pooled output (text_embeds)');
      const rowLen = enc.tokenizer.modelMaxLength;
      const rows = (pair.uncond ? pair.uncond.tokens / rowLen : 0) + tokens / rowLen;
      const width = rowsOf.length / rows;
      const condRow = pair.uncond ? pair.uncond.tokens / rowLen : 0;
      pooled = rowsOf.slice(condRow * width, (condRow + 1) * width);
      if (pair.uncond) negativePooled = rowsOf.slice(0, width);
      else if (negativeZeros) negativePooled = new Float32Array(width);
    }
  }
  const hidden = encoders.reduce((n, e) => n + e.width, 0);
  const condData = concatWidths(cond, tokens);
  const uncondData = encodeNegative ? concatWidths(uncond, tokens) : negativeZeros ? new Float32Array(condData.length) : null;
  return {
    cond: { data: condData, tokens, hidden },
    uncond: uncondData ? { data: uncondData, tokens, hidden } : null,
    pooled: pooled!,
    negativePooled,
    negativeZeros,
  };
}
