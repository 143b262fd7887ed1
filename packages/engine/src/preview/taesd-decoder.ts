/**
 * A TAESD-style preview decoder (`vae_approx/model.onnx` in the model folder): a tiny convolutional
 * decoder trained to mimic the VAE. It takes the latents the UNet works on ([1, C, h, w], scaled by
 * the VAE's scaling_factor, as madebyollin's taesd Decoder does) and gives an image [1, 3, 8h, 8w]
 * in [0, 1] (taesd's output range). Far cheaper than the VAE decoder, far closer than the linear map.
 */
import type { RgbImage } from '../pipelines/types.ts';
import { createSession, type SessionConfig } from '../models/onnx-session.ts';
import { findInput, findOutput, floatData, floatTensor, requireFloat, type IoSpec } from '../models/graph-io.ts';
import type * as ort from 'onnxruntime-node';

export class TaesdDecoder {
  readonly file: string;
  private readonly session: ort.InferenceSession;
  private readonly input: IoSpec;
  private readonly inputType: 'float32' | 'float16';
  private readonly out: IoSpec;

  private constructor(session: ort.InferenceSession, file: string) {
    this.session = session;
    this.file = file;
    // taesd exports name the input variously; the first input is the latents.
    this.input = findInput(session, file, ['latent_sample', 'latents', 'x', 'input', session.inputNames[0]!]);
    this.inputType = requireFloat(this.input, file);
    this.out = findOutput(session, file, ['sample', 'image', 'output']);
  }

  static async open(file: string, cfg: SessionConfig = {}): Promise<TaesdDecoder> {
    // Runs between UNet steps: one thread, so no second thread pool spins against the UNet's
    // (measured: a pooled session here slowed the UNet's steps more than the decode itself cost);
    // no arena to keep its peak around.
    const { session } = await createSession(file, { ...cfg, intraOpNumThreads: 1, enableCpuMemArena: false });
    return new TaesdDecoder(session, file);
  }

  /** One image's latents [c, h, w] → RGB at the decoder's output size (8h × 8w for taesd). */
  async decode(latents: Float32Array, c: number, h: number, w: number): Promise<RgbImage> {
    const res = await this.session.run({ [this.input.name]: floatTensor(this.inputType, latents.slice(), [1, c, h, w]) }, [this.out.name]);
    const t = res[this.out.name]!;
    const [, ch, H, W] = t.dims as [number, number, number, number];
    if (ch !== 3) throw new Error(`${this.file}: output has ${ch} channels; expected 3 (RGB)`);
    const data = floatData(t);
    const hw = H * W;
    const rgb = new Uint8Array(hw * 3);
    for (let i = 0; i < hw; i++) {
      for (let k = 0; k < 3; k++) {
        const v = Math.round(data[k * hw + i]! * 255);
        rgb[i * 3 + k] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
    return { data: rgb, width: W, height: H };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
