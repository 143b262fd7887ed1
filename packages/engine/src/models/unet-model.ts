/**
 * The UNet graph: adapts to its timestep dtype/rank, float16 or float32 sample, and a batch fixed
 * at some size (then runs the batch in chunks) or dynamic (one call).
 */
import * as ort from 'onnxruntime-node';
import type { LoadedSession } from './onnx-session.ts';
import { findInput, findOutput, fixedBatch, floatData, floatTensor, requireFloat, type IoSpec } from './graph-io.ts';
import { ModelFolderError, UnsupportedModelError } from './model-info.ts';
import { float32ToFloat16Bits } from './float16.ts';

const KNOWN_INPUTS = new Set(['sample', 'timestep', 'encoder_hidden_states']);

/** encoder_hidden_states prepared once per job and reused every step (chunk views for fixed batch). */
export interface HiddenStates {
  rows: number;
  tensor: ort.Tensor;
  chunks: ort.Tensor[];
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
  private readonly timestepDims: number[];
  private outBuffer: Float32Array | null = null;

  constructor(loaded: LoadedSession) {
    this.session = loaded.session;
    this.file = loaded.file;
    const extra = this.session.inputNames.filter((n) => !KNOWN_INPUTS.has(n));
    if (extra.some((n) => n === 'text_embeds' || n === 'time_ids')) {
      throw new UnsupportedModelError(this.file, `SDXL UNet inputs (${extra.join(', ')}) are not supported yet`);
    }
    if (extra.length) throw new ModelFolderError(this.file, `unexpected UNet inputs ${extra.join(', ')}`);
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

  /** Text length the graph is fixed at (e.g. 77), or null when the sequence axis is dynamic. */
  get fixedSequenceLength(): number | null {
    const s = this.hidden.shape[1];
    return typeof s === 'number' && s > 0 ? s : null;
  }

  /** Wraps rows × seq × hidden embeddings for every step of a job. */
  prepareHidden(data: Float32Array, rows: number, seq: number, hidden: number): HiddenStates {
    const fixedSeq = this.fixedSequenceLength;
    if (fixedSeq !== null && fixedSeq !== seq) {
      // Long prompts are encoded as 77-token chunks and concatenated; a graph exported with a
      // static sequence axis cannot take them.
      throw new PromptTooLongError(
        `${this.file}: this UNet takes exactly ${fixedSeq} text tokens (static encoder_hidden_states), ` +
          `but the prompt needs ${seq} (${Math.ceil(seq / 77)} chunks of 75 tokens): shorten the prompt to 75 tokens or fewer, or re-export the UNet with a dynamic sequence axis`,
      );
    }
    const tensor = floatTensor(this.hiddenType, data, [rows, seq, hidden]);
    const chunks: ort.Tensor[] = [];
    const b = this.batch;
    if (b !== null && b < rows) {
      if (rows % b) throw new Error(`${this.file}: batch fixed at ${b}, cannot run ${rows} rows`);
      const per = b * seq * hidden;
      for (let r = 0; r < rows; r += b) {
        const view = data.subarray((r / b) * per, (r / b + 1) * per);
        chunks.push(floatTensor(this.hiddenType, view, [b, seq, hidden]));
      }
    }
    return { rows, tensor, chunks };
  }

  private timestepTensor(t: number): ort.Tensor {
    const n = this.timestepDims.length ? this.timestepDims[0]! : 1;
    switch (this.timestep.type) {
      case 'int64': return new ort.Tensor('int64', new BigInt64Array(n).fill(BigInt(Math.round(t))), this.timestepDims);
      case 'int32': return new ort.Tensor('int32', new Int32Array(n).fill(Math.round(t)), this.timestepDims);
      case 'float16': return new ort.Tensor('float16', float32ToFloat16Bits(new Float32Array(n).fill(t)), this.timestepDims);
      default: return new ort.Tensor('float32', new Float32Array(n).fill(t), this.timestepDims);
    }
  }

  /** sample [rows, C, h, w] at timestep t → noise prediction [rows, 4, h, w]. */
  async run(sample: Float32Array, dims: readonly [number, number, number, number], t: number, hidden: HiddenStates): Promise<Float32Array> {
    const [rows, c, h, w] = dims;
    if (rows !== hidden.rows) throw new Error(`UNet batch ${rows} but ${hidden.rows} rows of text embeddings`);
    const ts = this.timestepTensor(t);
    if (!hidden.chunks.length) {
      const feeds = { [this.sample.name]: floatTensor(this.sampleType, sample, dims), [this.timestep.name]: ts, [this.hidden.name]: hidden.tensor };
      const res = await this.session.run(feeds, [this.out.name]);
      return floatData(res[this.out.name]!);
    }
    const b = this.batch!;
    const inPer = b * c * h * w;
    let out: Float32Array | null = null;
    for (let i = 0; i < hidden.chunks.length; i++) {
      const view = sample.subarray(i * inPer, (i + 1) * inPer);
      const feeds = { [this.sample.name]: floatTensor(this.sampleType, view, [b, c, h, w]), [this.timestep.name]: ts, [this.hidden.name]: hidden.chunks[i]! };
      const res = floatData((await this.session.run(feeds, [this.out.name]))[this.out.name]!);
      if (!out) {
        const need = res.length * hidden.chunks.length;
        if (!this.outBuffer || this.outBuffer.length !== need) this.outBuffer = new Float32Array(need);
        out = this.outBuffer;
      }
      out.set(res, i * res.length);
    }
    return out!;
  }
}
