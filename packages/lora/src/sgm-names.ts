/**
 * Kohya files for SDXL (and some for SD 1.x) name UNet modules the way Stability's original (LDM /
 * SGM) code does: `lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q`. ONNX exports carry
 * diffusers' names (`down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q`). The block
 * numbering follows from unet/config.json: with L = layers_per_block, input block i ≥ 1 is layer
 * (i−1) mod (L+1) of down block ⌊(i−1)/(L+1)⌋ (the last layer of each is its downsampler), output
 * block i is layer i mod (L+1) of up block ⌊i/(L+1)⌋; sub-module 0 is the resnet, 1 the attention
 * (or the upsampler in an up block without attention), 2 the upsampler.
 */

export interface UnetLayout {
  layersPerBlock: number;
  /** Per down / up block: whether it has attentions (CrossAttn…Block2D). */
  downAttention: boolean[];
  upAttention: boolean[];
}

export function unetLayout(config: { layers_per_block?: unknown; down_block_types?: unknown; up_block_types?: unknown }): UnetLayout | null {
  const L = config.layers_per_block;
  const down = config.down_block_types;
  const up = config.up_block_types;
  if (typeof L !== 'number' || !Array.isArray(down) || !Array.isArray(up)) return null;
  const attn = (t: unknown) => typeof t === 'string' && t.includes('CrossAttn');
  return { layersPerBlock: L, downAttention: down.map(attn), upAttention: up.map(attn) };
}

const RESNET_PARTS: Array<[RegExp, string]> = [
  [/^in_layers_2$/, 'conv1'], [/^out_layers_3$/, 'conv2'], [/^emb_layers_1$/, 'time_emb_proj'], [/^skip_connection$/, 'conv_shortcut'],
];
const TOP: Record<string, string> = {
  time_embed_0: 'time_embedding_linear_1', time_embed_2: 'time_embedding_linear_2',
  label_emb_0_0: 'add_embedding_linear_1', label_emb_0_2: 'add_embedding_linear_2',
  input_blocks_0_0: 'conv_in', out_2: 'conv_out',
};

function resnet(prefix: string, rest: string): string | null {
  for (const [re, name] of RESNET_PARTS) if (re.test(rest)) return `${prefix}_${name}`;
  return null;
}

/** The kohya (underscored) diffusers name of an SGM-named UNet module, or null when it is not one. */
export function sgmToDiffusers(module: string, layout: UnetLayout): string | null {
  if (TOP[module]) return TOP[module]!;
  const L = layout.layersPerBlock;
  let m = /^input_blocks_(\d+)_(\d+)_(.+)$/.exec(module);
  if (m) {
    const i = Number(m[1]);
    const j = Number(m[2]);
    if (i < 1) return null;
    const b = Math.floor((i - 1) / (L + 1));
    const r = (i - 1) % (L + 1);
    if (b >= layout.downAttention.length) return null;
    if (r === L) return j === 0 && m[3] === 'op' ? `down_blocks_${b}_downsamplers_0_conv` : null;
    if (j === 0) return resnet(`down_blocks_${b}_resnets_${r}`, m[3]!);
    return j === 1 && layout.downAttention[b] ? `down_blocks_${b}_attentions_${r}_${m[3]}` : null;
  }
  m = /^middle_block_(\d+)_(.+)$/.exec(module);
  if (m) {
    const j = Number(m[1]);
    if (j === 1) return `mid_block_attentions_0_${m[2]}`;
    return j === 0 || j === 2 ? resnet(`mid_block_resnets_${j / 2}`, m[2]!) : null;
  }
  m = /^output_blocks_(\d+)_(\d+)_(.+)$/.exec(module);
  if (m) {
    const i = Number(m[1]);
    const j = Number(m[2]);
    const b = Math.floor(i / (L + 1));
    const r = i % (L + 1);
    if (b >= layout.upAttention.length) return null;
    const attn = layout.upAttention[b]!;
    if (j === 0) return resnet(`up_blocks_${b}_resnets_${r}`, m[3]!);
    if (j === 1 && attn) return `up_blocks_${b}_attentions_${r}_${m[3]}`;
    const upsampler = (j === 1 && !attn) || (j === 2 && attn);
    return upsampler && r === L && m[3] === 'conv' ? `up_blocks_${b}_upsamplers_0_conv` : null;
  }
  return null;
}
