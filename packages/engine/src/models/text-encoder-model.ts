/**
 * A CLIP text encoder graph: rows of token ids → hidden states, whatever the id dtype.
 * SD 1.x/2.x read `last_hidden_state`; SDXL reads the penultimate layer (`hidden_states.N-1` of
 * optimum's export with output_hidden_states) and, from CLIPTextModelWithProjection, the pooled
 * projection `text_embeds`.
 */
import * as ort from 'onnxruntime-node';
import type { LoadedSession } from './onnx-session.ts';
import { findInput, findOutput, fixedBatch, floatData, type IoSpec } from './graph-io.ts';
import { ModelFolderError } from './model-info.ts';

export interface TextEncoderOptions {
  /** Which hidden states `run` returns (default 'last': last_hidden_state). */
  hiddenStates?: 'last' | 'penultimate';
  /** Also read the pooled projection `text_embeds` (CLIPTextModelWithProjection). */
  pooled?: boolean;
}

export interface TextEncoderOutput {
  /** rows × seq × hidden. */
  hidden: Float32Array;
  /** rows × projection, when the encoder was opened with `pooled`. */
  pooled: Float32Array | null;
}

/** diffusers' `hidden_states[-2]`: of hidden_states.0 (embeddings) … hidden_states.L, the one before the last. */
function penultimateOutput(session: ort.InferenceSession, file: string): IoSpec {
  const layers = session.outputNames
    .map((n) => /^hidden_states\.(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  if (layers.length < 2) {
    throw new ModelFolderError(file, `graph has no "hidden_states.N" outputs (outputs: ${session.outputNames.join(', ')}); SDXL encoders must be exported with output_hidden_states, as optimum's SDXL export does`);
  }
  return findOutput(session, file, [`hidden_states.${Math.max(...layers) - 1}`], false);
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export class TextEncoderModel {
  readonly session: ort.InferenceSession;
  readonly file: string;
  readonly hiddenSize: number | null;
  /** Width of `text_embeds` (SDXL's pooled embedding), when read. */
  readonly pooledSize: number | null;
  private readonly ids: IoSpec;
  private readonly out: IoSpec;
  private readonly pooledOut: IoSpec | null;
  private readonly batch: number | null;

  constructor(loaded: LoadedSession, opts: TextEncoderOptions = {}) {
    this.session = loaded.session;
    this.file = loaded.file;
    this.ids = findInput(this.session, this.file, ['input_ids']);
    if (this.ids.type !== 'int32' && this.ids.type !== 'int64') {
      throw new ModelFolderError(this.file, `"input_ids" is ${this.ids.type}; expected int32 or int64`);
    }
    this.out = opts.hiddenStates === 'penultimate'
      ? penultimateOutput(this.session, this.file)
      : findOutput(this.session, this.file, ['last_hidden_state']);
    this.pooledOut = opts.pooled ? findOutput(this.session, this.file, ['text_embeds'], false) : null;
    const h = this.out.shape[2];
    this.hiddenSize = typeof h === 'number' ? h : null;
    // optimum names text_embeds' axis 1 "sequence_length" although it is the projection width.
    const p = this.pooledOut?.shape[1];
    this.pooledSize = typeof p === 'number' ? p : null;
    this.batch = fixedBatch(this.ids);
  }

  /** ids: rows × seq token ids → rows × seq × hidden float32. */
  async run(ids: Int32Array, rows: number): Promise<Float32Array> {
    return (await this.runWithPooled(ids, rows)).hidden;
  }

  /** Hidden states and (when opened with `pooled`) the pooled projection of every row, in one pass. */
  async runWithPooled(ids: Int32Array, rows: number): Promise<TextEncoderOutput> {
    const seq = ids.length / rows;
    const step = this.batch ?? rows;
    if (rows % step !== 0) throw new Error(`${this.file}: batch fixed at ${step}, cannot run ${rows} rows`);
    const fetches = this.pooledOut ? [this.out.name, this.pooledOut.name] : [this.out.name];
    const hidden: Float32Array[] = [];
    const pooled: Float32Array[] = [];
    for (let r = 0; r < rows; r += step) {
      const slice = ids.subarray(r * seq, (r + step) * seq);
      const data = this.ids.type === 'int32' ? slice : BigInt64Array.from(slice, (v) => BigInt(v));
      const res = await this.session.run({ [this.ids.name]: new ort.Tensor(this.ids.type, data, [step, seq]) }, fetches);
      hidden.push(floatData(res[this.out.name]!));
      if (this.pooledOut) pooled.push(floatData(res[this.pooledOut.name]!));
    }
    return { hidden: concat(hidden), pooled: this.pooledOut ? concat(pooled) : null };
  }
}
