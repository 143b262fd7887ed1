/**
 * A model's graphs with LoRAs merged: new text encoder(s) and UNet sessions created from the
 * patched bytes @sdsvc/lora produces, the VAE sessions shared with the base model (LoRAs never
 * touch them). release() frees only the sessions made here.
 */
import { mergeLoras, type LoraApplication } from '@sdsvc/lora';
import { createSession, type SessionConfig } from './onnx-session.ts';
import type { SdModels } from './sd-models.ts';
import { TextEncoderModel } from './text-encoder-model.ts';
import { UnetModel } from './unet-model.ts';

export interface LoraModels {
  models: SdModels;
  /** Weights changed. */
  patched: number;
}

export async function loadLoraModels(base: SdModels, apps: readonly LoraApplication[], cfg: SessionConfig = {}): Promise<LoraModels> {
  const merged = await mergeLoras(base.info.dir, apps);
  const { unet: unetBytes, text_encoder: teBytes } = merged.graphs;
  const own: Array<{ release(): Promise<void> }> = [];
  try {
    let textEncoder = base.textEncoder;
    let textEncoders = base.textEncoders;
    const xl = base.info.sdxl;
    if (xl) {
      // SDXL: each encoder is opened as sd-models.ts opens it (penultimate states; the second pooled too).
      textEncoders = [];
      for (const [i, name] of xl.textEncoders.entries()) {
        const bytes = merged.graphs[name];
        let enc = base.textEncoders[i]!;
        if (bytes) {
          enc = new TextEncoderModel(await createSession(bytes.file, cfg, bytes), { hiddenStates: 'penultimate', pooled: name === 'text_encoder_2' });
          own.push(enc.session);
        }
        textEncoders.push(enc);
      }
      textEncoder = textEncoders[0]!;
    } else if (teBytes) {
      textEncoder = new TextEncoderModel(await createSession(teBytes.file, cfg, teBytes));
      own.push(textEncoder.session);
    }
    let unet = base.unet;
    if (unetBytes) {
      unet = new UnetModel(await createSession(unetBytes.file, cfg, unetBytes));
      own.push(unet.session);
    }
    const models: SdModels = {
      ...base, textEncoder, textEncoders, unet,
      async release() {
        for (const s of own) await s.release();
      },
    };
    return { models, patched: merged.patched };
  } catch (err) {
    for (const s of own) await s.release();
    throw err;
  }
}
