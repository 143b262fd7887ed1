/**
 * The UNet graph: adapts to its timestep dtype/rank, float16 or float32 sample, and a batch fixed
 * at some size (then runs the batch in chunks) or dynamic (one call, or groups of rows when one call
 * would hold too much attention: see MAX_ATTENTION_ROWS_TOKENS2). SDXL UNets
 * (addition_embed_type "text_time") take two more per-row inputs, diffusers' added_cond_kwargs:
 * `text_embeds` (pooled text embedding) and `time_ids` (micro-conditioning).
 */
import * as ort from 'onnxruntime-node';
import type { LoadedSession } from './onnx-session.ts';
import { findInput, findOutput, fixedBatch, floatData, floatTensor, requireFloat, type IoSpec } from './graph-io.ts';
import { ModelFolderError } from './model-info.ts';

const KNOWN_INPUTS = new Set(['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'time_ids']);

/**
 * The UNet's text feeds, prepared once per job and reused every step: encoder_hidden_states and
 * (SDXL) text_embeds and time_ids, whole and in views of the graph's fixed batch.
 */
export interface HiddenStates {
  rows: number;
  feeds: Record<string, ort.Tensor>;
  /** One feed set per fixed-batch chunk; empty when the graph takes the whole batch. */
  chunks: Array<Record<string, ort.Tensor>>;
  /** The feeds of rows [start, start + n) (calls split for memory, see UnetModel.rowsPerCall). */
  rowFeeds?: (start: number, n: number) => Record<string, ort.Tensor>;
  /** Feed sets per rows-per-call split, made on first use. */
  splits?: Map<number, Array<Record<string, ort.Tensor>>>;
}

/**
 * The most self-attention scores one UNet call may hold, in rows × (h·w)² (latent tokens): one row
 * of 64×64 latents (512² in SD 1.x: 8 heads × 4096² floats = 512 MiB per layer's scores, and as much
 * for their softmax). Larger calls, e.g. the CFG pair of a 512² image, run one row group at a time:
 * the same arithmetic per row, half the activation peak (memory.bench.ts); smaller latents still
 * batch (a 256² CFG pair is 1/8 of this).
 */
export const MAX_ATTENTION_ROWS_TOKENS2 = 4096 * 4096;

/** SDXL's added_cond_kwargs, one row per UNet row: pooled text embeddings and time ids. */
export interface AddedConditioning {
  textEmbeds: Float32Array;
  textEmbedsWidth: number;
  timeIds: Float32Array;
  timeIdsWidth: number;
}

/** The prompt (after chunking) is longer than the model's graph can take. */
export class PromptTooLongError extends Error {
  readonly code = 'prompt_too_long';
  constructor(message: string) {
    super(message);
    this.name = 'PromptTooLongError';
  }
}

export class UnetModel {
  readonly session: ort.InferenceSession;
  readonly file: string;
  /** From the graph when fixed, else null (the config tells). */
  readonly inChannels: number | null;
  /** Batch size the graph is fixed at, or null when dynamic. */
  readonly batch: number | null;
  private readonly sample: IoSpec;
  private readonly sampleType: 'float32' | 'float16';
  private readonly timestep: IoSpec;
  private readonly hidden: IoSpec;
  private readonly hiddenType: 'float32' | 'float16';
  private readonly out: IoSpec;
  private readonly textEmbeds: IoSpec | null;
  private readonly timeIds: IoSpec | null;
  private readonly timestepDims: number[];

  constructor(loaded: LoadedSession) {
    this.session = loaded.session;
    this.file = loaded.file;
    const extra = this.session.inputNames.filter((n) => !KNOWN_INPUTS.has(n));
    if (extra.length) throw new ModelFolderError(this.file, `unexpected UNet inputs ${extra.join(', ')}`);
    const names = new Set(this.session.inputNames);
    if (names.has('text_embeds') !== names.has('time_ids')) {
      throw new ModelFolderError(this.file, 'an SDXL UNet takes both "text_embeds" and "time_ids"');
    }
    this.textEmbeds = names.has('text_embeds') ? findInput(this.session, this.file, ['text_embeds']) : null;
    this.timeIds = names.has('time_ids') ? findInput(this.session, this.file, ['time_ids']) : null;
    if (this.textEmbeds) requireFloat(this.textEmbeds, this.file);
    if (this.timeIds) requireFloat(this.timeIds, this.file);
    this.sample = findInput(this.session, this.file, ['sample']);
    this.sampleType = requireFloat(this.sample, this.file);
    this.timestep = findInput(this.session, this.file, ['timestep']);
    if (!['float32', 'float16', 'int64', 'int32'].includes(this.timestep.type)) {
      throw new ModelFolderError(this.file, `"timestep" is ${this.timestep.type}; expected a float or integer type`);
    }
    // Rank 0 → scalar; rank 1 → [1] (broadcast over the batch) unless the graph fixes the size.
    const d0 = this.timestep.shape[0];
    this.timestepDims = this.timestep.shape.length === 0 ? [] : [typeof d0 === 'number' && d0 > 0 ? d0 : 1];
    this.hidden = findInput(this.session, this.file, ['encoder_hidden_states']);
    this.hiddenType = requireFloat(this.hidden, this.file);
    this.out = findOutput(this.session, this.file, ['out_sample']);
    const c = this.sample.shape[1];
    this.inChannels = typeof c === 'number' ? c : null;
    this.batch = fixedBatch(this.sample);
  }

  /** Whether the graph takes SDXL's text_embeds and time_ids. */
  get takesAddedConditioning(): boolean {
    return this.textEmbeds !== null;
  }

  /** Text length the graph is fixed at (e.g. 77), or null when the sequence axis is dynamic. */
  get fixedSequenceLength(): number | null {
    const s = this.hidden.shape[1];
    return typeof s === 'number' && s > 0 ? s : null;
  }

  /** Wraps rows × seq × hidden embeddings (and SDXL's added conditioning) for every step of a job. */
  prepareHidden(data: Float32Array, rows: number, seq: number, hidden: number, added?: AddedConditioning): HiddenStates {
    if (this.takesAddedConditioning !== !!added) {
      throw new Error(this.takesAddedConditioning
        ? `${this.file}: this SDXL UNet needs text_embeds and time_ids`
        : `${this.file}: this UNet takes no text_embeds / time_ids`);
    }
    const fixedSeq = this.fixedSequenceLength;
    if (fixedSeq !== null && fixedSeq !== seq) {
      // Long prompts are encoded as 77-token chunks and concatenated; a graph exported with a
      // static sequence axis cannot take them.
      throw new PromptTooLongError(
        `${this.file}: this UNet takes exactly ${fixedSeq} text tokens (static encoder_hidden_states), ` +
          `but the prompt needs ${seq} (${Math.ceil(seq / 77)} chunks of 75 tokens): shorten the prompt to 75 tokens or fewer, or re-export the UNet with a dynamic sequence axis`,
      );
    }
    // Rows [start, start + n) of every text feed.
    const feedsFor = (start: number, n: number): Record<string, ort.Tensor> => {
      const per = seq * hidden;
      const feeds: Record<string, ort.Tensor> = {
        [this.hidden.name]: floatTensor(this.hiddenType, data.subarray(start * per, (start + n) * per), [n, seq, hidden]),
      };
      if (added) {
        const te = this.textEmbeds!, ti = this.timeIds!;
        const { textEmbeds, textEmbedsWidth: tw, timeIds, timeIdsWidth: iw } = added;
        feeds[te.name] = floatTensor(requireFloat(te, this.file), textEmbeds.subarray(start * tw, (start + n) * tw), [n, tw]);
        feeds[ti.name] = floatTensor(requireFloat(ti, this.file), timeIds.subarray(start * iw, (start + n) * iw), [n, iw]);
      }
      return feeds;
    };
    const chunks: Array<Record<string, ort.Tensor>> = [];
    const b = this.batch;
    if (b !== null && b < rows) {
      if (rows % b) throw new Error(`${this.file}: batch fixed at ${b}, cannot run ${rows} rows`);
      for (let r = 0; r < rows; r += b) chunks.push(feedsFor(r, b));
    }
    return { rows, feeds: feedsFor(0, rows), chunks, rowFeeds: feedsFor };
  }

  /** Rows per call for latents of h × w: all of them unless their attention exceeds MAX_ATTENTION_ROWS_TOKENS2. */
  rowsPerCall(rows: number, h: number, w: number): number {
    return Math.max(1, Math.min(rows, Math.floor(MAX_ATTENTION_ROWS_TOKENS2 / (h * w) ** 2)));
  }

  /** Fixed-batch chunks, else the memory split of rowsPerCall (empty: one call). */
  private callsFor(hidden: HiddenStates, h: number, w: number): { size: number; feeds: Array<Record<string, ort.Tensor>> } {
    if (hidden.chunks.length) return { size: this.batch!, feeds: hidden.chunks };
    const size = this.rowsPerCall(hidden.rows, h, w);
    if (size >= hidden.rows || !hidden.rowFeeds) return { size: hidden.rows, feeds: [] };
    hidden.splits ??= new Map();
    let feeds = hidden.splits.get(size);
    if (!feeds) {
      feeds = [];
      for (let r = 0; r < hidden.rows; r += size) feeds.push(hidden.rowFeeds(r, Math.min(size, hidden.rows - r)));
      hidden.splits.set(size, feeds);
    }
    return { size, feeds };
  }

  private timestepTensor(t: number): ort.Tensor {
    const n = this.timestepDims.length ? this.timestepDims[0]! : 1;
    switch (this.timestep.type) {
      case 'int64': return new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(Math.round(t))), this.timestepDims);
      case 'int32': return new ort.Tensor('int32', new Int32Array(n).fill(Math.round(t)), this.timestepDims);
      case 'float16': return floatTensor('float16', new Float32Array(n).fill(t), this.timestepDims);
      default: return new ort.Tensor('float32', new Float32Array(n).fill(t), this.timestepDims);
    }
  }

  /** sample [rows, C, h, w] at timestep t → noise prediction [rows, 4, h, w]. */
  async run(sample: Float32Array, dims: readonly [number, number, number, number], t: number, hidden: HiddenStates): Promise<Float32Array> {
    const [rows, c, h, w] = dims;
    if (rows !== hidden.rows) throw new Error(`UNet batch ${rows} but ${hidden.rows} rows of text embeddings`);
    const ts = this.timestepTensor(t);
    const calls = this.callsFor(hidden, h, w);
    if (!calls.feeds.length) {
      const feeds = { ...hidden.feeds, [this.sample.name]: floatTensor(this.sampleType, sample, dims), [this.timestep.name]: ts };
      const res = await this.session.run(feeds, [this.out.name]);
      return floatData(res[this.out.name]!);
    }
    const per = c * h * w;
    let out: Float32Array | null = null;
    let outPer = 0;
    for (let i = 0, r = 0; i < calls.feeds.length; i++, r += calls.size) {
      const n = Math.min(calls.size, rows - r);
      const view = sample.subarray(r * per, (r + n) * per);
      const feeds = { ...calls.feeds[i]!, [this.sample.name]: floatTensor(this.sampleType, view, [n, c, h, w]), [this.timestep.name]: ts };
      const res = floatData((await this.session.run(feeds, [this.out.name]))[this.out.name]!);
      if (!out) {
        outPer = res.length / n;
        out = new Float32Array(outPer * rows); // fresh per step: schedulers may keep earlier outputs
      }
      out.set(res, r * outPer);
    }
    return out!;
  }
}
