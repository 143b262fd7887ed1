/**
 * CLIP BPE tokenizer, id for id the same as transformers' slow `CLIPTokenizer` without ftfy
 * (the tokenizer diffusers uses for Stable Diffusion 1.x/2.x):
 * 1. special tokens written literally in the text are split out first (case-sensitive, leftmost
 *    longest), as transformers' added-tokens trie does; with SD 2.x's pad token "!" this makes
 *    every "!" its own token (id 0);
 * 2. each remaining piece goes through BasicTokenizer cleaning (basic-clean.ts), is lower-cased
 *    and cut by CLIP's pre-token regex;
 * 3. each pre-token is byte-level encoded and BPE-merged (bpe.ts), then looked up in vocab.json.
 */
import { basicTokenize } from './basic-clean.ts';
import { BytePairEncoder } from './bpe.ts';
import { toByteLevel } from './byte-encoder.ts';
import { readTokenizerFiles, type TokenizerFiles } from './tokenizer-files.ts';

const PRE_TOKEN = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;

export interface EncodeForModelOptions {
  /** Keep BOS, the first modelMaxLength - 2 tokens and EOS (default true, as diffusers does). */
  truncation?: boolean;
}

export interface ModelInput {
  inputIds: Int32Array;
  /** 1 for BOS, text tokens and EOS, 0 for padding. */
  attentionMask: Uint8Array;
}

export class ClipTokenizer {
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  readonly unkTokenId: number;
  readonly modelMaxLength: number;
  private readonly vocab: ReadonlyMap<string, number>;
  /** Tokens matched literally before pre-tokenisation (special and added tokens), content → id. */
  private readonly literalTokens: ReadonlyMap<string, number>;
  private readonly bpe: BytePairEncoder;

  constructor(files: TokenizerFiles) {
    this.vocab = files.vocab;
    this.modelMaxLength = files.modelMaxLength;
    let nextId = 0;
    for (const id of files.vocab.values()) nextId = Math.max(nextId, id + 1);
    for (const id of files.addedTokens.values()) nextId = Math.max(nextId, id + 1);
    const literal = new Map(files.addedTokens);
    // Special tokens missing from the vocabulary get new ids after it, as transformers adds them.
    const idOf = (content: string): number => {
      let id = literal.get(content) ?? files.vocab.get(content);
      if (id === undefined) id = nextId++;
      literal.set(content, id);
      return id;
    };
    const { bos, eos, unk, pad } = files.special;
    this.bosTokenId = idOf(bos);
    this.eosTokenId = idOf(eos);
    this.unkTokenId = idOf(unk);
    this.padTokenId = idOf(pad);
    this.literalTokens = literal;
    this.bpe = new BytePairEncoder(files.mergeRanks, ['<|startoftext|>', '<|endoftext|>']);
  }

  /** Loads a model's `tokenizer/` folder; errors name the missing or malformed file. */
  static async fromDirectory(dir: string): Promise<ClipTokenizer> {
    return new ClipTokenizer(await readTokenizerFiles(dir));
  }

  /** Token ids of `text`, without BOS/EOS, untruncated. */
  encode(text: string): number[] {
    const ids: number[] = [];
    this.forEachToken(text, (token, literalId) => {
      ids.push(literalId ?? this.literalTokens.get(token) ?? this.vocab.get(token) ?? this.unkTokenId);
    });
    return ids;
  }

  /** The byte-level BPE strings of `text` (for debugging), without BOS/EOS. */
  tokenize(text: string): string[] {
    const tokens: string[] = [];
    this.forEachToken(text, (token) => tokens.push(token));
    return tokens;
  }

  /**
   * `tokenizer(text, padding="max_length", max_length=modelMaxLength, truncation=True).input_ids`:
   * BOS, the first modelMaxLength - 2 tokens, EOS, then pad ids.
   */
  encodeForModel(text: string, opts: EncodeForModelOptions = {}): Int32Array {
    return this.encodeForModelWithMask(text, opts).inputIds;
  }

  /** encodeForModel plus the attention mask transformers returns with it. */
  encodeForModelWithMask(text: string, opts: EncodeForModelOptions = {}): ModelInput {
    const truncation = opts.truncation ?? true;
    let ids = this.encode(text);
    if (truncation) ids = ids.slice(0, this.modelMaxLength - 2);
    const used = ids.length + 2;
    const length = Math.max(this.modelMaxLength, used);
    const inputIds = new Int32Array(length).fill(this.padTokenId);
    const attentionMask = new Uint8Array(length);
    inputIds[0] = this.bosTokenId;
    inputIds.set(ids, 1);
    inputIds[used - 1] = this.eosTokenId;
    attentionMask.fill(1, 0, used);
    return { inputIds, attentionMask };
  }

  /** Calls `emit` for each BPE token; literal special tokens come with their id. */
  private forEachToken(text: string, emit: (token: string, literalId?: number) => void): void {
    for (const piece of this.splitLiteralTokens(text)) {
      if (piece.literalId !== undefined) {
        emit(piece.text, piece.literalId);
        continue;
      }
      const cleaned = basicTokenize(piece.text).join(' ').toLowerCase();
      for (const match of cleaned.matchAll(PRE_TOKEN)) {
        for (const token of this.bpe.encode(toByteLevel(match[0]))) emit(token);
      }
    }
  }

  /** Splits `text` around literal occurrences of special tokens (leftmost, then longest). */
  private splitLiteralTokens(text: string): Array<{ text: string; literalId?: number }> {
    const pieces: Array<{ text: string; literalId?: number }> = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      let found = '';
      for (const token of this.literalTokens.keys()) {
        if (token.length > found.length && text.startsWith(token, i)) found = token;
      }
      if (found === '') {
        i++;
        continue;
      }
      if (i > start) pieces.push({ text: text.slice(start, i) });
      pieces.push({ text: found, literalId: this.literalTokens.get(found)! });
      i += found.length;
      start = i;
    }
    if (start < text.length) pieces.push({ text: text.slice(start) });
    return pieces;
  }
}
