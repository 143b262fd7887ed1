/**
 * Every graph of one Stable Diffusion folder, opened once and reused: text encoder, UNet, VAE
 * decoder and (when present) VAE encoder, plus the configs the pipeline needs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSession, type SessionConfig } from './onnx-session.ts';
import { readModelInfo, ModelFolderError, type ModelInfo } from './model-info.ts';
import { TextEncoderModel } from './text-encoder-model.ts';
import { UnetModel } from './unet-model.ts';
import { VaeDecoderModel, VaeEncoderModel } from './vae-models.ts';
import type { SchedulerConfig } from '../schedulers/config.ts';

export interface SdModels {
  info: ModelInfo;
  schedulerConfig: SchedulerConfig;
  textEncoder: TextEncoderModel;
  unet: UnetModel;
  vaeDecoder: VaeDecoderModel;
  vaeEncoder: VaeEncoderModel | null;
  release(): Promise<void>;
}

export async function loadSdModels(dir: string, cfg: SessionConfig = {}): Promise<SdModels> {
  const info = await readModelInfo(dir);
  const schedFile = join(info.dir, 'scheduler', 'scheduler_config.json');
  const schedulerConfig = JSON.parse(await readFile(schedFile, 'utf8')) as SchedulerConfig;
  const open = (name: string) => createSession(join(info.dir, name, 'model.onnx'), cfg);
  const textEncoder = new TextEncoderModel(await open('text_encoder'));
  const unet = new UnetModel(await open('unet'));
  const vaeDecoder = new VaeDecoderModel(await open('vae_decoder'));
  const vaeEncoder = info.capabilities.includes('img2img') || info.capabilities.includes('inpaint')
    ? new VaeEncoderModel(await open('vae_encoder'))
    : null;
  if (unet.inChannels !== null && unet.inChannels !== info.unetInChannels) {
    throw new ModelFolderError(unet.file, `graph takes ${unet.inChannels} channels but unet/config.json says in_channels ${info.unetInChannels}`);
  }
  if (textEncoder.hiddenSize !== null && textEncoder.hiddenSize !== info.textHiddenSize) {
    info.textHiddenSize = textEncoder.hiddenSize; // the graph is the truth
  }
  const sessions = [textEncoder.session, unet.session, vaeDecoder.session, vaeEncoder?.session];
  return {
    info, schedulerConfig, textEncoder, unet, vaeDecoder, vaeEncoder,
    async release() {
      for (const s of sessions) await s?.release();
    },
  };
}
