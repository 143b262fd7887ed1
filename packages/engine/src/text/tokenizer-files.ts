/**
 * Reads a Hugging Face CLIP `tokenizer/` folder (vocab.json, merges.txt, tokenizer_config.json,
 * special_tokens_map.json) and resolves the special tokens the way transformers does:
 * special_tokens_map.json overrides tokenizer_config.json (SD 2.x repositories rely on this
 * for their pad token "!"). Every problem is reported with the file it comes from.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** CLIP's merges.txt holds 49152 - 256 - 2 merges; transformers reads no more than that. */
export const MAX_MERGES = 49152 - 256 - 2;

export interface SpecialTokens {
  bos: string;
  eos: string;
  unk: string;
  pad: string;
}

export interface TokenizerFiles {
  vocab: Map<string, number>;
  mergeRanks: Map<string, number>;
  special: SpecialTokens;
  /** Extra added tokens declared in tokenizer_config.json (`added_tokens_decoder`), content → id. */
  addedTokens: Map<string, number>;
  modelMaxLength: number;
}

export class TokenizerFileError extends Error {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`tokenizer file ${file}: ${message}`, options);
    this.name = 'TokenizerFileError';
    this.file = file;
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TokenizerFileError(file, code === 'ENOENT' ? 'missing' : `cannot be read (${code ?? String(err)})`, { cause: err });
  }
}

async function readJsonObject(file: string): Promise<Record<string, unknown>> {
  const text = await readText(file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TokenizerFileError(file, `is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokenizerFileError(file, 'must hold a JSON object');
  }
  return value as Record<string, unknown>;
}

function parseVocab(file: string, json: Record<string, unknown>): Map<string, number> {
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(json)) {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new TokenizerFileError(file, `token ${JSON.stringify(token)} has id ${JSON.stringify(id)}, expected a non-negative integer`);
    }
    vocab.set(token, id as number);
  }
  if (vocab.size === 0) throw new TokenizerFileError(file, 'is empty');
  return vocab;
}

function parseMerges(file: string, text: string): Map<string, number> {
  const lines = text.trim().split('\n');
  if (!lines[0]?.startsWith('#version')) {
    throw new TokenizerFileError(file, 'must start with a "#version" line');
  }
  const ranks = new Map<string, number>();
  const merges = lines.slice(1, 1 + MAX_MERGES);
  merges.forEach((line, rank) => {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 2) throw new TokenizerFileError(file, `line ${rank + 2} is not a pair of symbols: ${JSON.stringify(line)}`);
    const key = parts[0] + ' ' + parts[1];
    if (!ranks.has(key)) ranks.set(key, rank);
  });
  return ranks;
}

/** A token entry is either a string or an AddedToken object `{content, ...}`. */
function tokenContent(file: string, key: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  throw new TokenizerFileError(file, `"${key}" must be a string or an object with a "content" string`);
}

export async function readTokenizerFiles(dir: string): Promise<TokenizerFiles> {
  const vocabFile = join(dir, 'vocab.json');
  const mergesFile = join(dir, 'merges.txt');
  const configFile = join(dir, 'tokenizer_config.json');
  const mapFile = join(dir, 'special_tokens_map.json');
  const [vocabJson, mergesText, config, specialMap] = await Promise.all([
    readJsonObject(vocabFile), readText(mergesFile), readJsonObject(configFile), readJsonObject(mapFile),
  ]);

  const pick = (key: keyof SpecialTokens, fallback: string): string =>
    tokenContent(mapFile, `${key}_token`, specialMap[`${key}_token`]) ??
    tokenContent(configFile, `${key}_token`, config[`${key}_token`]) ??
    fallback;
  // CLIPTokenizer's constructor defaults.
  const special: SpecialTokens = {
    bos: pick('bos', '<|startoftext|>'),
    eos: pick('eos', '<|endoftext|>'),
    unk: pick('unk', '<|endoftext|>'),
    pad: pick('pad', '<|endoftext|>'),
  };

  const addedTokens = new Map<string, number>();
  const decoder = config['added_tokens_decoder'];
  if (decoder !== undefined && decoder !== null) {
    if (typeof decoder !== 'object') throw new TokenizerFileError(configFile, '"added_tokens_decoder" must be an object');
    for (const [id, entry] of Object.entries(decoder as Record<string, unknown>)) {
      const content = tokenContent(configFile, `added_tokens_decoder.${id}`, entry);
      if (content === undefined || !/^\d+$/.test(id)) throw new TokenizerFileError(configFile, `bad added_tokens_decoder entry ${id}`);
      addedTokens.set(content, Number(id));
    }
  }

  const maxLength = config['model_max_length'];
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || (maxLength as number) < 2)) {
    throw new TokenizerFileError(configFile, `"model_max_length" must be an integer ≥ 2, got ${JSON.stringify(maxLength)}`);
  }

  return {
    vocab: parseVocab(vocabFile, vocabJson),
    mergeRanks: parseMerges(mergesFile, mergesText),
    special,
    addedTokens,
    // CLIP's text encoder has 77 positions; every SD tokenizer_config.json says so too.
    modelMaxLength: (maxLength as number | undefined) ?? 77,
  };
}
