/** The two VAE graphs: encoder (latent parameters or a latent sample) and decoder. */
import * as ort from 'onnxruntime-node';
import type { LoadedSession } from './onnx-session.ts';
import { findInput, findOutput, fixedBatch, floatData, floatTensor, requireFloat, type IoSpec } from './graph-io.ts';
import { ModelFolderError } from './model-info.ts';

/** Encoder output: the Gaussian's parameters (mean ‖ logvar, 2×latent channels) or a ready sample. */
export interface VaeEncoding {
  kind: 'parameters' | 'sample';
  data: Float32Array;
  dims: number[];
}

async function runBatched(session: ort.InferenceSession, input: IoSpec, type: 'float32' | 'float16', out: IoSpec,
  data: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: number[] }> {
  const fixed = fixedBatch(input);
  const rows = dims[0]!;
  const step = fixed ?? rows;
  const per = data.length / rows;
  const parts: ort.Tensor[] = [];
  for (let r = 0; r < rows; r += step) {
    const view = data.subarray(r * per, (r + step) * per);
    const res = await session.run({ [input.name]: floatTensor(type, view, [step, ...dims.slice(1)]) }, [out.name]);
    parts.push(res[out.name]!);
  }
  const outDims = [rows, ...parts[0]!.dims.slice(1)];
  if (parts.length === 1) return { data: floatData(parts[0]!), dims: outDims };
  const all = new Float32Array(parts.reduce((n, p) => n + p.size, 0));
  let o = 0;
  for (const p of parts) { const d = floatData(p); all.set(d, o); o += d.length; }
  return { data: all, dims: outDims };
}

export class VaeEncoderModel {
  readonly session: ort.InferenceSession;
  readonly file: string;
  private readonly input: IoSpec;
  private readonly inputType: 'float32' | 'float16';
  private readonly out: IoSpec;
  readonly outputKind: 'parameters' | 'sample';

  constructor(loaded: LoadedSession) {
    this.session = loaded.session;
    this.file = loaded.file;
    this.input = findInput(this.session, this.file, ['sample']);
    this.inputType = requireFloat(this.input, this.file);
    this.out = findOutput(this.session, this.file, ['latent_parameters', 'latent_sample', 'latent_dist'], false);
    const c = this.out.shape[1];
    this.outputKind = this.out.name === 'latent_sample' || c === 4 ? 'sample' : 'parameters';
    if (this.outputKind === 'parameters' && typeof c === 'number' && c % 2) {
      throw new ModelFolderError(this.file, `"${this.out.name}" has ${c} channels; expected mean and log-variance`);
    }
  }

  /** image [B, 3, H, W] in [-1, 1]. */
  async run(image: Float32Array, dims: readonly number[]): Promise<VaeEncoding> {
    const r = await runBatched(this.session, this.input, this.inputType, this.out, image, dims);
    return { kind: this.outputKind, ...r };
  }
}

export class VaeDecoderModel {
  readonly session: ort.InferenceSession;
  readonly file: string;
  private readonly input: IoSpec;
  private readonly inputType: 'float32' | 'float16';
  private readonly out: IoSpec;

  constructor(loaded: LoadedSession) {
    this.session = loaded.session;
    this.file = loaded.file;
    this.input = findInput(this.session, this.file, ['latent_sample']);
    this.inputType = requireFloat(this.input, this.file);
    this.out = findOutput(this.session, this.file, ['sample']);
  }

  /** unscaled latents [B, 4, h, w] → images [B, 3, H, W] in about [-1, 1]. */
  async run(latents: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: number[] }> {
    return runBatched(this.session, this.input, this.inputType, this.out, latents, dims);
  }
}
