/**
 * SD 1.5's UNet2DConditionModel (diffusers): sample [B, 4, h, w], timestep (float scalar),
 * encoder_hidden_states [B, seq, 768] → out_sample [B, 4, h, w]. block_out_channels
 * [320, 640, 1280, 1280], CrossAttnDownBlock2D ×3 + DownBlock2D, UNetMidBlock2DCrossAttn,
 * UpBlock2D + CrossAttnUpBlock2D ×3, 2 layers per block (3 going up), 8 heads, GEGLU ×4,
 * GroupNorm 32 (eps 1e-5; 1e-6 in the transformers), sinusoidal timestep 320 → 1280.
 */
import type { OnnxBuilder } from './onnx-builder.ts';
import { attention, conv, fromTokens, gelu, groupNorm, layerNorm, linear, resnet, silu, toTokens, upsampleNearest } from './layers.ts';

const BLOCKS = [320, 640, 1280, 1280];
const LAYERS = 2;
const HEADS = 8;
const CROSS = 768;
const TEMB = 1280;
const EPS = 1e-5;

export const UNET_CONFIG = {
  _class_name: 'UNet2DConditionModel', _diffusers_version: '0.27.2', act_fn: 'silu', addition_embed_type: null,
  attention_head_dim: HEADS, block_out_channels: BLOCKS, center_input_sample: false, class_embed_type: null,
  cross_attention_dim: CROSS, down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  downsample_padding: 1, dual_cross_attention: false, flip_sin_to_cos: true, freq_shift: 0, in_channels: 4,
  layers_per_block: LAYERS, mid_block_scale_factor: 1, mid_block_type: 'UNetMidBlock2DCrossAttn', norm_eps: EPS, norm_num_groups: 32,
  num_class_embeds: null, only_cross_attention: false, out_channels: 4, resnet_time_scale_shift: 'default', sample_size: 64,
  time_embedding_type: 'positional', transformer_layers_per_block: 1,
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'], upcast_attention: false,
  use_linear_projection: false,
};

/** Transformer2DModel with one BasicTransformerBlock (self-attention, cross-attention, GEGLU). */
function transformer(b: OnnxBuilder, p: string, x: string, c: number, context: string): string {
  const { tokens, back } = toTokens(b, p, conv(b, `${p}.proj_in`, groupNorm(b, `${p}.norm`, x, c, 1e-6), c, c, 1), c);
  const t = `${p}.transformer_blocks.0`;
  let h = tokens;
  h = b.op('Add', [attention(b, `${t}.attn1`, layerNorm(b, `${t}.norm1`, h, c), c, { heads: HEADS, qkvBias: false }), h], {}, `/${t}/Add`);
  h = b.op('Add', [attention(b, `${t}.attn2`, layerNorm(b, `${t}.norm2`, h, c), c,
    { heads: HEADS, qkvBias: false, context: { value: context, width: CROSS } }), h], {}, `/${t}/Add_1`);
  // GEGLU: proj to 2 × 4c, the first half times gelu(the second), then back to c.
  const proj = linear(b, `${t}.ff.net.0.proj`, layerNorm(b, `${t}.norm3`, h, c), c, 8 * c);
  const [hidden, gate] = b.node('Split', [proj, b.constI([4 * c, 4 * c])], { axis: -1 }, `/${t}/ff/Split`, 2) as [string, string];
  const geglu = b.op('Mul', [hidden, gelu(b, `${t}/ff/gelu`, gate)], {}, `/${t}/ff/Mul`);
  h = b.op('Add', [linear(b, `${t}.ff.net.2`, geglu, 4 * c, c), h], {}, `/${t}/Add_2`);
  return b.op('Add', [conv(b, `${p}.proj_out`, fromTokens(b, p, h, back), c, c, 1), x], {}, `/${p}/Add`);
}

/** get_timestep_embedding(t, 320, flip_sin_to_cos=True, downscale_freq_shift=0), expanded to the batch. */
function timestepEmbedding(b: OnnxBuilder, timestep: string, sample: string): string {
  const half = BLOCKS[0]! / 2;
  const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const args = b.op('Mul', [b.op('Reshape', [timestep, b.constI([1, 1])], {}, '/time_proj/Reshape'), b.constF(freqs, [1, half])], {}, '/time_proj/Mul');
  const emb = b.op('Concat', [b.op('Cos', [args], {}, '/time_proj/Cos'), b.op('Sin', [args], {}, '/time_proj/Sin')], { axis: -1 }, '/time_proj/Concat');
  const batch = b.op('Slice', [b.op('Shape', [sample], {}, '/Shape'), b.constI([0]), b.constI([1]), b.constI([0])], {}, '/Slice');
  const shape = b.op('Concat', [batch, b.constI([BLOCKS[0]!])], { axis: 0 }, '/Concat');
  const expanded = b.op('Expand', [emb, shape], {}, '/Expand');
  const t1 = silu(b, 'time_embedding/act', linear(b, 'time_embedding.linear_1', expanded, BLOCKS[0]!, TEMB));
  return linear(b, 'time_embedding.linear_2', t1, TEMB, TEMB);
}

export function buildUnet(b: OnnxBuilder): void {
  const sample = b.input('sample', ['batch_size', 4, 'height', 'width']);
  const timestep = b.input('timestep', []);
  const context = b.input('encoder_hidden_states', ['batch_size', 'sequence_length', CROSS]);
  const temb = { value: timestepEmbedding(b, timestep, sample), width: TEMB };

  let h = conv(b, 'conv_in', sample, 4, BLOCKS[0]!, 3);
  const skips: Array<{ value: string; channels: number }> = [{ value: h, channels: BLOCKS[0]! }];
  let ch = BLOCKS[0]!;
  BLOCKS.forEach((out, i) => {
    const p = `down_blocks.${i}`;
    const cross = i < BLOCKS.length - 1;
    for (let j = 0; j < LAYERS; j++) {
      h = resnet(b, `${p}.resnets.${j}`, h, ch, out, EPS, temb);
      ch = out;
      if (cross) h = transformer(b, `${p}.attentions.${j}`, h, out, context);
      skips.push({ value: h, channels: out });
    }
    if (i < BLOCKS.length - 1) {
      h = conv(b, `${p}.downsamplers.0.conv`, h, out, out, 3, 2, 1);
      skips.push({ value: h, channels: out });
    }
  });

  const top = BLOCKS.at(-1)!;
  h = resnet(b, 'mid_block.resnets.0', h, top, top, EPS, temb);
  h = transformer(b, 'mid_block.attentions.0', h, top, context);
  h = resnet(b, 'mid_block.resnets.1', h, top, top, EPS, temb);

  const up = [...BLOCKS].reverse();
  up.forEach((out, i) => {
    const p = `up_blocks.${i}`;
    const cross = i > 0;
    for (let j = 0; j <= LAYERS; j++) {
      const skip = skips.pop()!;
      h = b.op('Concat', [h, skip.value], { axis: 1 }, `/${p}/Concat_${j}`);
      h = resnet(b, `${p}.resnets.${j}`, h, ch + skip.channels, out, EPS, temb);
      ch = out;
      if (cross) h = transformer(b, `${p}.attentions.${j}`, h, out, context);
    }
    if (i < up.length - 1) h = conv(b, `${p}.upsamplers.0.conv`, upsampleNearest(b, `${p}.upsamplers.0`, h), out, out, 3);
  });

  h = conv(b, 'conv_out', silu(b, 'conv_act', groupNorm(b, 'conv_norm_out', h, ch, EPS)), ch, 4, 3);
  b.finishOutput(h, 'out_sample', ['batch_size', 4, 'height', 'width']);
}
