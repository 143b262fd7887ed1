/** The CLIP text encoder graph: rows of token ids → last_hidden_state, whatever the id dtype. */
import * as ort from 'onnxruntime-node';
import type { LoadedSession } from './onnx-session.ts';
import { findInput, findOutput, fixedBatch, floatData, type IoSpec } from './graph-io.ts';
import { ModelFolderError } from './model-info.ts';

export class TextEncoderModel {
  readonly session: ort.InferenceSession;
  readonly file: string;
  readonly hiddenSize: number | null;
  private readonly ids: IoSpec;
  private readonly out: IoSpec;
  private readonly batch: number | null;

  constructor(loaded: LoadedSession) {
    this.session = loaded.session;
    this.file = loaded.file;
    this.ids = findInput(this.session, this.file, ['input_ids']);
    if (this.ids.type !== 'int32' && this.ids.type !== 'int64') {
      throw new ModelFolderError(this.file, `"input_ids" is ${this.ids.type}; expected int32 or int64`);
    }
    this.out = findOutput(this.session, this.file, ['last_hidden_state']);
    const h = this.out.shape[2];
    this.hiddenSize = typeof h === 'number' ? h : null;
    this.batch = fixedBatch(this.ids);
  }

  /** ids: rows × seq token ids → rows × seq × hidden float32. */
  async run(ids: Int32Array, rows: number): Promise<Float32Array> {
    const seq = ids.length / rows;
    const step = this.batch ?? rows;
    if (rows % step !== 0) throw new Error(`${this.file}: batch fixed at ${step}, cannot run ${rows} rows`);
    const parts: Float32Array[] = [];
    for (let r = 0; r < rows; r += step) {
      const slice = ids.subarray(r * seq, (r + step) * seq);
      const data = this.ids.type === 'int32' ? slice : BigInt64Array.from(slice, (v) => BigInt(v));
      const res = await this.session.run({ [this.ids.name]: new ort.Tensor(this.ids.type, data, [step, seq]) }, [this.out.name]);
      parts.push(floatData(res[this.out.name]!));
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  }
}
