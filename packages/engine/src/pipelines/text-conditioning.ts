/**
 * What the UNet is conditioned on, per model family, and how its rows are laid out for a group of
 * images. SD 1.x/2.x: the text embeddings. SDXL: the concatenated embeddings of two encoders plus
 * diffusers' added_cond_kwargs (pooled `text_embeds`, micro-conditioning `time_ids`).
 */
import type { SdModels } from '../models/sd-models.ts';
import type { AddedConditioning, HiddenStates } from '../models/unet-model.ts';
import { encodePromptPair } from '../text/encode-prompt.ts';
import type { PromptTokenizer } from '../text/text-encoder-fn.ts';
import { encodeSdxlPrompt } from '../text/sdxl-prompt-encoding.ts';
import { sdxlTimeIds } from './sdxl-time-ids.ts';
import type { GenerateOptions, GenerateRequest } from './types.ts';

export interface TextConditioning {
  tokens: number;
  hidden: number;
  cond: Float32Array;
  /** Unconditional side under CFG, else null. */
  uncond: Float32Array | null;
  /** SDXL: pooled embeddings and time ids of each side. */
  added?: {
    textEmbedsWidth: number;
    timeIdsWidth: number;
    cond: { textEmbeds: Float32Array; timeIds: Float32Array };
    uncond: { textEmbeds: Float32Array; timeIds: Float32Array } | null;
  };
}

type Probe = GenerateOptions['probe'];

/** SD 1.x/2.x: one encoder, its last hidden states. */
export async function encodeSdConditioning(models: SdModels, tokenizer: PromptTokenizer, req: GenerateRequest, cfg: boolean, probe?: Probe): Promise<TextConditioning> {
  const hidden = models.info.textHiddenSize;
  const { cond, uncond } = await encodePromptPair({
    tokenizer, runTextEncoder: (ids, rows) => models.textEncoder.run(ids, rows), hidden,
    prompt: req.prompt, negativePrompt: req.negativePrompt ?? '', withNegative: cfg,
  }, req.promptSyntax ?? 'plain');
  probe?.('prompt_embeds', cond.data, [1, cond.tokens, hidden]);
  if (uncond) probe?.('negative_prompt_embeds', uncond.data, [1, uncond.tokens, hidden]);
  if (uncond && uncond.tokens !== cond.tokens) throw new Error(`prompt and negative prompt encode to ${cond.tokens} and ${uncond.tokens} tokens`);
  return { tokens: cond.tokens, hidden, cond: cond.data, uncond: uncond?.data ?? null };
}

/** SDXL: both encoders (text-side rules in sdxl-prompt-encoding.ts), pooled embeddings, time ids. */
export async function encodeSdxlConditioning(models: SdModels, tokenizers: readonly PromptTokenizer[], req: GenerateRequest, cfg: boolean, probe?: Probe): Promise<TextConditioning> {
  const xl = models.info.sdxl!;
  const enc = await encodeSdxlPrompt({
    encoders: models.textEncoders.map((e, i) => ({
      tokenizer: tokenizers[i]!, width: e.hiddenSize ?? 0, run: (ids, rows) => e.runWithPooled(ids, rows),
    })),
    prompt: req.prompt, prompt2: req.prompt2, negativePrompt: req.negativePrompt, negativePrompt2: req.negativePrompt2,
    withNegative: cfg, forceZerosForEmptyPrompt: xl.forceZerosForEmptyPrompt, syntax: req.promptSyntax ?? 'plain',
  });
  const { tokens, hidden } = enc.cond;
  const time = sdxlTimeIds(models.info, req);
  const pooledWidth = enc.pooled.length;
  probe?.('prompt_embeds', enc.cond.data, [1, tokens, hidden]);
  probe?.('pooled_prompt_embeds', enc.pooled, [1, pooledWidth]);
  if (enc.uncond) probe?.('negative_prompt_embeds', enc.uncond.data, [1, tokens, hidden]);
  if (enc.negativePooled) probe?.('negative_pooled_prompt_embeds', enc.negativePooled, [1, pooledWidth]);
  return {
    tokens, hidden, cond: enc.cond.data, uncond: enc.uncond?.data ?? null,
    added: {
      textEmbedsWidth: pooledWidth,
      timeIdsWidth: time.width,
      cond: { textEmbeds: enc.pooled, timeIds: time.cond },
      uncond: cfg ? { textEmbeds: enc.negativePooled!, timeIds: time.uncond } : null,
    },
  };
}

/**
 * The UNet's text feeds for images [start, start + n) of a batch of `batch`: rows [uncond × n,
 * cond × n] under CFG, as diffusers concatenates them. SDXL time ids follow diffusers'
 * `cat([neg, pos]).repeat(batch, 1)`: global row r of the 2·batch CFG rows takes the negative
 * ids when r is even and the positive ids when odd (the same rows whenever the negative ids
 * equal the positive ones, their default).
 */
export function unetTextFeeds(models: SdModels, text: TextConditioning, start: number, n: number, batch: number, cfg: boolean, probe?: Probe): HiddenStates {
  const t = unetTextRows(text, start, n, batch, cfg);
  if (t.added && start === 0) {
    probe?.('add_text_embeds', t.added.textEmbeds, [t.rows, t.added.textEmbedsWidth]);
    probe?.('add_time_ids', t.added.timeIds, [t.rows, t.added.timeIdsWidth]);
  }
  return models.unet.prepareHidden(t.data, t.rows, text.tokens, text.hidden, t.added);
}

/** The rows of unetTextFeeds as plain arrays (cross-request batches concatenate several jobs' rows). */
export function unetTextRows(text: TextConditioning, start: number, n: number, batch: number, cfg: boolean):
  { rows: number; data: Float32Array; added?: AddedConditioning } {
  const rows = cfg ? 2 * n : n;
  const per = text.tokens * text.hidden;
  const data = new Float32Array(rows * per);
  const isUncond = (r: number) => cfg && r < n;
  for (let r = 0; r < rows; r++) data.set(isUncond(r) ? text.uncond! : text.cond, r * per);
  const a = text.added;
  if (!a) return { rows, data };
  const textEmbeds = new Float32Array(rows * a.textEmbedsWidth);
  const timeIds = new Float32Array(rows * a.timeIdsWidth);
  for (let r = 0; r < rows; r++) {
    textEmbeds.set(isUncond(r) ? a.uncond!.textEmbeds : a.cond.textEmbeds, r * a.textEmbedsWidth);
    const globalRow = !cfg ? -1 : isUncond(r) ? start + r : batch + start + (r - n);
    timeIds.set(cfg && globalRow % 2 === 0 ? a.uncond!.timeIds : a.cond.timeIds, r * a.timeIdsWidth);
  }
  return { rows, data, added: { textEmbeds, textEmbedsWidth: a.textEmbedsWidth, timeIds, timeIdsWidth: a.timeIdsWidth } };
}
