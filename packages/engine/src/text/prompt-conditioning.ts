/**
 * A1111-style prompt conditioning: attention weights and prompts longer than 75 tokens.
 *
 * As A1111's sd_hijack_clip (FrozenCLIPEmbedderWithCustomWords.tokenize_line / process_tokens)
 * with emphasis "Original" and comma_padding_backtrack = 20:
 * - each parsed fragment is tokenised on its own; every token carries its fragment's weight;
 * - tokens fill chunks of 75; a top-level BREAK closes the current chunk; when a chunk is full and
 *   a comma was among its last 20 tokens, the tokens after that comma move to the next chunk;
 * - each chunk is BOS + 75 slots (unused slots = EOS) + EOS, weights 1 for BOS/EOS; then every id
 *   after the first EOS becomes the tokenizer's pad id (SD1: pad = EOS, no change; SD2's OpenCLIP:
 *   pad "!" = 0, as A1111 does with id_pad and as diffusers pads);
 * - each chunk is encoded (77 ids), each token's vector multiplied by its weight, and the chunk is
 *   rescaled so that its mean over 77 × hidden equals the mean before weighting; chunks are
 *   concatenated along the sequence axis;
 * - the prompt and negative prompt are padded with empty chunks (the encoding of "") to the same
 *   number of chunks, as A1111's pad_cond_uncond does.
 * A plain prompt of ≤ 75 tokens with all weights 1 gives exactly diffusers' 77 ids and embeddings.
 */
import { parsePromptAttention, isBreak, type WeightedFragment } from '@sdsvc/prompt';
import type { EncodePromptPairInput, EncodedPromptPair, RunTextEncoder } from './text-encoder-fn.ts';

/** What this module needs from the tokenizer (ClipTokenizer satisfies it). */
export interface ConditioningTokenizer {
  encode(text: string): number[];
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  readonly modelMaxLength?: number;
}

/** One encoder row: `ids` and `weights` both of length 77 (modelMaxLength). */
export interface PromptChunk {
  ids: number[];
  weights: number[];
}

export interface ChunkOptions {
  /** A1111's comma_padding_backtrack (default 20; 0 disables it). */
  commaBacktrack?: number;
}

export interface WeightedEncoding {
  /** chunks × 77 × hidden floats. */
  embeddings: Float32Array;
  chunks: number;
  hidden: number;
}

const DEFAULT_COMMA_BACKTRACK = 20;

function rowLength(tokenizer: ConditioningTokenizer): number {
  return tokenizer.modelMaxLength ?? 77;
}

/** BOS + tokens + EOS-padding + EOS, then pad ids after the first EOS (A1111's next_chunk + process_tokens). */
function closeChunk(tokenizer: ConditioningTokenizer, tokens: number[], weights: number[]): PromptChunk {
  const span = rowLength(tokenizer) - 2;
  const ids = [tokenizer.bosTokenId, ...tokens];
  const w = [1, ...weights];
  while (ids.length < span + 1) {
    ids.push(tokenizer.eosTokenId);
    w.push(1);
  }
  ids.push(tokenizer.eosTokenId);
  w.push(1);
  const firstEos = ids.indexOf(tokenizer.eosTokenId);
  for (let i = firstEos + 1; i < ids.length; i++) ids[i] = tokenizer.padTokenId;
  return { ids, weights: w };
}

/** The chunk of an empty prompt: BOS, EOS, pads. */
export function emptyChunk(tokenizer: ConditioningTokenizer): PromptChunk {
  return closeChunk(tokenizer, [], []);
}

/** Splits a parsed prompt into 77-id rows with per-token weights (no encoder involved). */
export function buildPromptChunks(tokenizer: ConditioningTokenizer, parsed: WeightedFragment[], options: ChunkOptions = {}): PromptChunk[] {
  const span = rowLength(tokenizer) - 2;
  const backtrack = options.commaBacktrack ?? DEFAULT_COMMA_BACKTRACK;
  const commaIds = tokenizer.encode(',');
  const comma = commaIds.length === 1 ? commaIds[0] : -1;

  const chunks: PromptChunk[] = [];
  let tokens: number[] = [];
  let weights: number[] = [];
  let lastComma = -1;
  const next = (): void => {
    chunks.push(closeChunk(tokenizer, tokens, weights));
    tokens = [];
    weights = [];
    lastComma = -1;
  };

  for (const fragment of parsed) {
    if (isBreak(fragment)) {
      next();
      continue;
    }
    const [text, weight] = fragment;
    for (const token of tokenizer.encode(text)) {
      if (token === comma) {
        lastComma = tokens.length;
      } else if (backtrack !== 0 && tokens.length === span && lastComma !== -1 && tokens.length - lastComma <= backtrack) {
        // Full chunk with a recent comma: cut after the comma, carry the rest over.
        const cut = lastComma + 1;
        const carriedTokens = tokens.slice(cut);
        const carriedWeights = weights.slice(cut);
        tokens = tokens.slice(0, cut);
        weights = weights.slice(0, cut);
        next();
        tokens = carriedTokens;
        weights = carriedWeights;
      }
      if (tokens.length === span) next();
      tokens.push(token);
      weights.push(weight);
    }
  }
  if (tokens.length > 0 || chunks.length === 0) next();
  return chunks;
}

/**
 * Scales each token's vector of one encoded chunk by its weight, then restores the chunk's mean.
 * All weights 1 leaves the data untouched (A1111's ratio is then exactly 1). If the weighted mean
 * is 0 (A1111 would divide by zero), the weighted values are kept without rescaling.
 */
export function applyWeights(z: Float32Array, weights: readonly number[], hidden: number): void {
  if (weights.every((w) => w === 1)) return;
  let before = 0;
  for (let i = 0; i < z.length; i++) before += z[i];
  let after = 0;
  for (let t = 0; t < weights.length; t++) {
    const w = weights[t];
    for (let d = t * hidden; d < (t + 1) * hidden; d++) {
      z[d] *= w;
      after += z[d];
    }
  }
  const ratio = before / after;
  if (!Number.isFinite(ratio)) return;
  for (let i = 0; i < z.length; i++) z[i] *= ratio;
}

/** Runs the encoder once on all rows and applies each row's weights. */
async function encodeChunks(
  tokenizer: ConditioningTokenizer,
  runTextEncoder: RunTextEncoder,
  chunks: PromptChunk[],
): Promise<{ data: Float32Array; hidden: number }> {
  const len = rowLength(tokenizer);
  const ids = new Int32Array(chunks.length * len);
  chunks.forEach((c, i) => ids.set(c.ids, i * len));
  const out = await runTextEncoder(ids, chunks.length);
  const hidden = out.length / (chunks.length * len);
  if (!Number.isInteger(hidden) || hidden < 1) {
    throw new Error(`text encoder returned ${out.length} floats for ${chunks.length} rows of ${len} ids`);
  }
  const data = new Float32Array(out); // own copy: weighting writes in place
  chunks.forEach((c, i) => applyWeights(data.subarray(i * len * hidden, (i + 1) * len * hidden), c.weights, hidden));
  return { data, hidden };
}

function padChunks(tokenizer: ConditioningTokenizer, chunks: PromptChunk[], count: number): PromptChunk[] {
  const padded = [...chunks];
  while (padded.length < count) padded.push(emptyChunk(tokenizer));
  return padded;
}

/** Encodes one parsed prompt; `chunks` pads it with empty chunks up to that count. */
export async function encodeWeightedPrompt(
  tokenizer: ConditioningTokenizer,
  runTextEncoder: RunTextEncoder,
  parsed: WeightedFragment[],
  options: ChunkOptions & { chunks?: number } = {},
): Promise<WeightedEncoding> {
  const chunks = padChunks(tokenizer, buildPromptChunks(tokenizer, parsed, options), options.chunks ?? 0);
  const { data, hidden } = await encodeChunks(tokenizer, runTextEncoder, chunks);
  return { embeddings: data, chunks: chunks.length, hidden };
}

/**
 * Encodes a prompt and its negative with the same number of chunks, in one encoder call
 * (negative rows first, as diffusers batches [uncond, cond]).
 */
export async function encodeWeightedPromptPair(
  tokenizer: ConditioningTokenizer,
  runTextEncoder: RunTextEncoder,
  positive: WeightedFragment[],
  negative: WeightedFragment[],
  options: ChunkOptions & { minChunks?: number } = {},
): Promise<{ positive: WeightedEncoding; negative: WeightedEncoding }> {
  const pos = buildPromptChunks(tokenizer, positive, options);
  const neg = buildPromptChunks(tokenizer, negative, options);
  const count = Math.max(pos.length, neg.length, options.minChunks ?? 0);
  const { data, hidden } = await encodeChunks(tokenizer, runTextEncoder, [...padChunks(tokenizer, neg, count), ...padChunks(tokenizer, pos, count)]);
  const half = count * rowLength(tokenizer) * hidden;
  return {
    negative: { embeddings: data.subarray(0, half), chunks: count, hidden },
    positive: { embeddings: data.subarray(half), chunks: count, hidden },
  };
}

/** The pipeline's seam (encode-prompt.ts, promptSyntax 'a1111'): texts in, embeddings out. */
export async function encodePromptPairA1111(input: EncodePromptPairInput): Promise<EncodedPromptPair> {
  const { tokenizer, runTextEncoder } = input;
  const len = rowLength(tokenizer);
  const positive = parsePromptAttention(input.prompt);
  if (!input.withNegative) {
    const cond = await encodeWeightedPrompt(tokenizer, runTextEncoder, positive, { chunks: input.minChunks });
    checkHidden(cond.hidden, input.hidden);
    return { cond: { data: cond.embeddings, tokens: cond.chunks * len, hidden: cond.hidden }, uncond: null };
  }
  const pair = await encodeWeightedPromptPair(tokenizer, runTextEncoder, positive, parsePromptAttention(input.negativePrompt), { minChunks: input.minChunks });
  checkHidden(pair.positive.hidden, input.hidden);
  return {
    cond: { data: pair.positive.embeddings, tokens: pair.positive.chunks * len, hidden: pair.positive.hidden },
    uncond: { data: pair.negative.embeddings, tokens: pair.negative.chunks * len, hidden: pair.negative.hidden },
  };
}

/** How many 77-id rows a prompt takes in A1111 syntax (no encoder involved). */
export function countPromptChunks(tokenizer: ConditioningTokenizer, text: string): number {
  return buildPromptChunks(tokenizer, parsePromptAttention(text)).length;
}

function checkHidden(actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`text encoder hidden size is ${actual}, the model info says ${expected}`);
}
