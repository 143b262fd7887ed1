/**
 * SD 1.5's AutoencoderKL as optimum exports it, in two graphs: vae_decoder (latent_sample →
 * post_quant_conv → Decoder → sample) and vae_encoder (sample → Encoder → quant_conv →
 * latent_parameters, mean ‖ logvar). block_out_channels [128, 256, 512, 512], 2 layers per block
 * (3 in the decoder's up blocks), mid block with single-head attention, GroupNorm 32 eps 1e-6.
 */
import type { OnnxBuilder } from './onnx-builder.ts';
import { attention, conv, fromTokens, groupNorm, resnet, silu, toTokens, upsampleNearest } from './layers.ts';

const BLOCKS = [128, 256, 512, 512];
const LAYERS = 2;
const LATENT = 4;
const EPS = 1e-6;

export const VAE_CONFIG = {
  _class_name: 'AutoencoderKL', _diffusers_version: '0.27.2', act_fn: 'silu', block_out_channels: BLOCKS,
  down_block_types: BLOCKS.map(() => 'DownEncoderBlock2D'), force_upcast: true, in_channels: 3, latent_channels: LATENT,
  latents_mean: null, latents_std: null, layers_per_block: LAYERS, norm_num_groups: 32, out_channels: 3, sample_size: 512,
  scaling_factor: 0.18215, up_block_types: BLOCKS.map(() => 'UpDecoderBlock2D'),
};

/** UNetMidBlock2D: resnet, single-head self-attention with its own GroupNorm and residual, resnet. */
function midBlock(b: OnnxBuilder, p: string, x: string, c: number): string {
  let h = resnet(b, `${p}.resnets.0`, x, c, c, EPS);
  const a = `${p}.attentions.0`;
  const { tokens, back } = toTokens(b, a, groupNorm(b, `${a}.group_norm`, h, c, EPS), c);
  const attended = fromTokens(b, a, attention(b, a, tokens, c, { heads: 1, qkvBias: true }), back);
  h = b.op('Add', [attended, h], {}, `/${a}/Add`);
  return resnet(b, `${p}.resnets.1`, h, c, c, EPS);
}

export function buildVaeDecoder(b: OnnxBuilder): void {
  const z = b.input('latent_sample', ['batch_size', LATENT, 'latent_height', 'latent_width']);
  const top = BLOCKS.at(-1)!;
  let h = conv(b, 'decoder.conv_in', conv(b, 'post_quant_conv', z, LATENT, LATENT, 1), LATENT, top, 3);
  h = midBlock(b, 'decoder.mid_block', h, top);
  let ch = top;
  const up = [...BLOCKS].reverse();
  up.forEach((out, i) => {
    const p = `decoder.up_blocks.${i}`;
    for (let j = 0; j <= LAYERS; j++) { h = resnet(b, `${p}.resnets.${j}`, h, ch, out, EPS); ch = out; }
    if (i < up.length - 1) h = conv(b, `${p}.upsamplers.0.conv`, upsampleNearest(b, `${p}.upsamplers.0`, h), out, out, 3);
  });
  h = conv(b, 'decoder.conv_out', silu(b, 'decoder/conv_act', groupNorm(b, 'decoder.conv_norm_out', h, ch, EPS)), ch, 3, 3);
  b.finishOutput(h, 'sample', ['batch_size', 3, 'height', 'width']);
}

export function buildVaeEncoder(b: OnnxBuilder): void {
  const x = b.input('sample', ['batch_size', 3, 'sample_height', 'sample_width']);
  let h = conv(b, 'encoder.conv_in', x, 3, BLOCKS[0]!, 3);
  let ch = BLOCKS[0]!;
  BLOCKS.forEach((out, i) => {
    const p = `encoder.down_blocks.${i}`;
    for (let j = 0; j < LAYERS; j++) { h = resnet(b, `${p}.resnets.${j}`, h, ch, out, EPS); ch = out; }
    if (i < BLOCKS.length - 1) {
      // Downsample2D(padding=0): F.pad(x, (0, 1, 0, 1)) then a stride-2 conv.
      const padded = b.op('Pad', [h, b.constI([0, 0, 0, 0, 0, 0, 1, 1])], { mode: 'constant' }, `/${p}/downsamplers.0/Pad`);
      h = conv(b, `${p}.downsamplers.0.conv`, padded, out, out, 3, 2, 0);
    }
  });
  h = midBlock(b, 'encoder.mid_block', h, ch);
  h = conv(b, 'encoder.conv_out', silu(b, 'encoder/conv_act', groupNorm(b, 'encoder.conv_norm_out', h, ch, EPS)), ch, 2 * LATENT, 3);
  h = conv(b, 'quant_conv', h, 2 * LATENT, 2 * LATENT, 1);
  b.finishOutput(h, 'latent_parameters', ['batch_size', 2 * LATENT, 'latent_height', 'latent_width']);
}
