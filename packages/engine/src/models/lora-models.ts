/**
 * A model's graphs with LoRAs merged: new text encoder and UNet sessions created from the patched
 * bytes @sdsvc/lora produces, the VAE sessions shared with the base model (LoRAs never touch them).
 * release() frees only the sessions made here.
 */
import { LoraIncompatibleError, mergeLoras, type LoraApplication } from '@sdsvc/lora';
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
  if (base.info.kind === 'sdxl') {
    const te = apps.flatMap((a) => a.adapter.targets.filter((t) => t.component !== 'unet').map((t) => ({ a, t })))[0];
    if (te) throw new LoraIncompatibleError(te.t.label, 'is a text-encoder target: text-encoder LoRAs on SDXL models are not supported yet', te.a.name);
  }
  const merged = await mergeLoras(base.info.dir, apps);
  const { unet: unetBytes, text_encoder: teBytes } = merged.graphs;
  const own: Array<{ release(): Promise<void> }> = [];
  try {
    let textEncoder = base.textEncoder;
    if (teBytes) {
      textEncoder = new TextEncoderModel(await createSession(teBytes.file, cfg, teBytes));
      own.push(textEncoder.session);
    }
    let unet = base.unet;
    if (unetBytes) {
      unet = new UnetModel(await createSession(unetBytes.file, cfg, unetBytes));
      own.push(unet.session);
    }
    const models: SdModels = {
      ...base, textEncoder, unet,
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
