/**
 * Every graph of one Stable Diffusion folder, opened once and reused: text encoder(s), UNet, VAE
 * decoder and (when present) VAE encoder, plus the configs the pipeline needs. SDXL folders open
 * their encoders for the penultimate hidden states, text_encoder_2 also for its pooled output.
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
  /** SD 1.x/2.x: the text encoder (last_hidden_state). SDXL: the first of `textEncoders`. */
  textEncoder: TextEncoderModel;
  /** SDXL: the encoders in concatenation order (text_encoder, text_encoder_2; a refiner only the second). Empty otherwise. */
  textEncoders: TextEncoderModel[];
  unet: UnetModel;
  vaeDecoder: VaeDecoderModel;
  vaeEncoder: VaeEncoderModel | null;
  release(): Promise<void>;
}

export async function loadSdModels(dir: string, cfg: SessionConfig = {}): Promise<SdModels> {
  const info = await readModelInfo(dir);
  const schedFile = join(info.dir, 'scheduler', 'scheduler_config.json');
  const schedulerConfig = JSON.parse(await readFile(schedFile, 'utf8')) as SchedulerConfig;
  const open = (name: string, over: Partial<SessionConfig> = {}) => createSession(join(info.dir, name, 'model.onnx'), { ...cfg, ...over });
  // Memory per graph (test/bench/memory.bench.ts): the VAE graphs run once per image, not once per
  // step: an arena would keep their peak activations (GBs at 512² and up) for the life of the
  // process. Without it, the memory pattern's one planned block per run is returned to the system
  // after the run (the pattern keeps it faster than one allocation per tensor). The UNet, by default
  // (ORT_CPU_MEM_ARENA=false), takes the memory pattern as the VAE graphs do: returned after each
  // call, so the VAE decode does not stack on the UNet's peak (full-size SD 1.5 at 512²: 1.42× the
  // weights vs 1.57× with the arena) for ~5 % per step; per-tensor allocation would be much slower
  // (17–18 s vs 11 s per CFG row under load). With the arena (true), not the memory pattern: with
  // both, the planned block sits beside the arena's chunks and the peak doubles for no speed.
  const once = { enableCpuMemArena: false, enableMemPattern: cfg.enableMemPattern ?? true };
  const xl = info.sdxl;
  const textEncoders: TextEncoderModel[] = [];
  for (const name of xl?.textEncoders ?? []) {
    textEncoders.push(new TextEncoderModel(await open(name), { hiddenStates: 'penultimate', pooled: name === 'text_encoder_2' }));
  }
  const textEncoder = textEncoders[0] ?? new TextEncoderModel(await open('text_encoder'));
  const unetArena = cfg.enableCpuMemArena ?? false;
  const unet = new UnetModel(await open('unet', { enableCpuMemArena: unetArena, enableMemPattern: cfg.enableMemPattern ?? !unetArena }));
  if (unet.takesAddedConditioning !== !!xl) {
    throw new ModelFolderError(unet.file, xl ? 'an SDXL UNet graph needs the inputs "text_embeds" and "time_ids"' : 'graph takes SDXL inputs (text_embeds, time_ids) but the folder is not an SDXL pipeline');
  }
  const vaeDecoder = new VaeDecoderModel(await open('vae_decoder', once));
  const vaeEncoder = info.capabilities.includes('img2img') || info.capabilities.includes('inpaint')
    ? new VaeEncoderModel(await open('vae_encoder', once))
    : null;
  if (unet.inChannels !== null && unet.inChannels !== info.unetInChannels) {
    throw new ModelFolderError(unet.file, `graph takes ${unet.inChannels} channels but unet/config.json says in_channels ${info.unetInChannels}`);
  }
  if (xl) {
    const widths = textEncoders.map((e) => e.hiddenSize);
    if (widths.every((w) => w !== null)) {
      const sum = (widths as number[]).reduce((a, b) => a + b, 0);
      if (sum !== info.textHiddenSize) {
        throw new ModelFolderError(unet.file, `the text encoders give ${widths.join(' + ')} = ${sum} wide embeddings but unet/config.json says cross_attention_dim ${info.textHiddenSize}`);
      }
    }
    const pooled = textEncoders.at(-1)!.pooledSize;
    if (pooled !== null) xl.pooledSize = pooled; // the graph is the truth
  } else if (textEncoder.hiddenSize !== null && textEncoder.hiddenSize !== info.textHiddenSize) {
    info.textHiddenSize = textEncoder.hiddenSize; // the graph is the truth
  }
  const sessions = [...new Set([textEncoder, ...textEncoders])].map((e) => e.session).concat([unet.session, vaeDecoder.session]);
  if (vaeEncoder) sessions.push(vaeEncoder.session);
  return {
    info, schedulerConfig, textEncoder, textEncoders, unet, vaeDecoder, vaeEncoder,
    async release() {
      for (const s of sessions) await s.release();
    },
  };
}
