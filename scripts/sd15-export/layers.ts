/**
 * The torch modules SD 1.5 is made of, as torch.onnx.export (opset 17) writes them: Linear as
 * MatMul + Add, GroupNorm as Reshape → InstanceNormalization → Reshape → Mul → Add, SiLU as
 * x·Sigmoid(x), GELU with Erf, attention as MatMul / scale / Softmax / MatMul over heads (no fused
 * ops), nearest Resize ×2, ResnetBlock2D. Weight names follow the module paths (`prefix`).
 */
import type { OnnxBuilder } from './onnx-builder.ts';

export function linear(b: OnnxBuilder, prefix: string, x: string, inF: number, outF: number, bias = true): string {
  const w = b.weight(`${prefix}.weight`, [inF, outF]); // stored transposed, as torch exports Linear
  const y = b.op('MatMul', [x, w], {}, `/${prefix}/MatMul`);
  return bias ? b.op('Add', [b.weight(`${prefix}.bias`, [outF], 'zeros'), y], {}, `/${prefix}/Add`) : y;
}

export function conv(b: OnnxBuilder, prefix: string, x: string, cin: number, cout: number, k: number, stride = 1, pad = (k - 1) / 2): string {
  const w = b.weight(`${prefix}.weight`, [cout, cin, k, k]);
  const bias = b.weight(`${prefix}.bias`, [cout], 'zeros');
  return b.op('Conv', [x, w, bias], { dilations: [1, 1], group: 1, kernel_shape: [k, k], pads: [pad, pad, pad, pad], strides: [stride, stride] }, `/${prefix}/Conv`);
}

export function groupNorm(b: OnnxBuilder, prefix: string, x: string, channels: number, eps: number, groups = 32): string {
  const shape = b.op('Shape', [x], {}, `/${prefix}/Shape`);
  const grouped = b.op('Reshape', [x, b.constI([0, groups, -1])], {}, `/${prefix}/Reshape`);
  const normed = b.op('InstanceNormalization', [grouped, b.constF(new Float32Array(groups).fill(1)), b.constF(new Float32Array(groups))],
    { epsilon: { f: eps } }, `/${prefix}/InstanceNormalization`);
  const back = b.op('Reshape', [normed, shape], {}, `/${prefix}/Reshape_1`);
  const scaled = b.op('Mul', [back, b.weight(`${prefix}.weight`, [channels, 1, 1], 'ones')], {}, `/${prefix}/Mul`);
  return b.op('Add', [scaled, b.weight(`${prefix}.bias`, [channels, 1, 1], 'zeros')], {}, `/${prefix}/Add`);
}

export function layerNorm(b: OnnxBuilder, prefix: string, x: string, width: number, eps = 1e-5): string {
  return b.op('LayerNormalization', [x, b.weight(`${prefix}.weight`, [width], 'ones'), b.weight(`${prefix}.bias`, [width], 'zeros')],
    { axis: -1, epsilon: { f: eps } }, `/${prefix}/LayerNormalization`);
}

export function silu(b: OnnxBuilder, prefix: string, x: string): string {
  return b.op('Mul', [x, b.op('Sigmoid', [x], {}, `/${prefix}/Sigmoid`)], {}, `/${prefix}/Mul`);
}

/** GELU (erf): x · 0.5 · (1 + erf(x / √2)). */
export function gelu(b: OnnxBuilder, prefix: string, x: string): string {
  const e = b.op('Erf', [b.op('Div', [x, b.constF([Math.SQRT2], [])], {}, `/${prefix}/Div`)], {}, `/${prefix}/Erf`);
  const y = b.op('Mul', [x, b.op('Add', [e, b.constF([1], [])], {}, `/${prefix}/Add`)], {}, `/${prefix}/Mul`);
  return b.op('Mul', [y, b.constF([0.5], [])], {}, `/${prefix}/Mul_1`);
}

/** CLIP's quick_gelu: x · sigmoid(1.702 x). */
export function quickGelu(b: OnnxBuilder, prefix: string, x: string): string {
  const s = b.op('Sigmoid', [b.op('Mul', [x, b.constF([1.702], [])], {}, `/${prefix}/Mul`)], {}, `/${prefix}/Sigmoid`);
  return b.op('Mul', [x, s], {}, `/${prefix}/Mul_1`);
}

/** [B, N, heads·d] → [B, heads, N, d] (`perm` [0, 2, 3, 1] gives [B, heads, d, N] for keys). */
function splitHeads(b: OnnxBuilder, prefix: string, x: string, heads: number, d: number, perm = [0, 2, 1, 3]): string {
  const r = b.op('Reshape', [x, b.constI([0, -1, heads, d])], {}, `${prefix}/Reshape`);
  return b.op('Transpose', [r], { perm }, `${prefix}/Transpose`);
}

export interface AttentionOptions {
  /** Key/value source width (cross-attention); omitted: self-attention. */
  context?: { value: string; width: number };
  heads: number;
  /** Biases on to_q / to_k / to_v (CLIP, the VAE) or not (the UNet). */
  qkvBias: boolean;
  /** Added to the scores before Softmax (CLIP's causal mask). */
  mask?: string;
  /** Names of the four projections (diffusers: to_q to_k to_v to_out.0; CLIP: q_proj k_proj v_proj out_proj). */
  names?: [string, string, string, string];
}

/** Multi-head attention on [B, N, C] → [B, N, C], the scores materialised per head as SDPA exports them. */
export function attention(b: OnnxBuilder, prefix: string, x: string, width: number, o: AttentionOptions): string {
  const [nq, nk, nv, no] = o.names ?? ['to_q', 'to_k', 'to_v', 'to_out.0'];
  const d = width / o.heads;
  const src = o.context?.value ?? x;
  const srcWidth = o.context?.width ?? width;
  const q = splitHeads(b, `/${prefix}/q`, linear(b, `${prefix}.${nq}`, x, width, width, o.qkvBias), o.heads, d);
  const k = splitHeads(b, `/${prefix}/k`, linear(b, `${prefix}.${nk}`, src, srcWidth, width, o.qkvBias), o.heads, d, [0, 2, 3, 1]);
  const v = splitHeads(b, `/${prefix}/v`, linear(b, `${prefix}.${nv}`, src, srcWidth, width, o.qkvBias), o.heads, d);
  let scores = b.op('Mul', [b.op('MatMul', [q, k], {}, `/${prefix}/MatMul`), b.constF([1 / Math.sqrt(d)], [])], {}, `/${prefix}/Mul`);
  if (o.mask) scores = b.op('Add', [scores, o.mask], {}, `/${prefix}/Add`);
  const probs = b.op('Softmax', [scores], { axis: -1 }, `/${prefix}/Softmax`);
  const ctx = b.op('Transpose', [b.op('MatMul', [probs, v], {}, `/${prefix}/MatMul_1`)], { perm: [0, 2, 1, 3] }, `/${prefix}/Transpose`);
  const merged = b.op('Reshape', [ctx, b.constI([0, -1, width])], {}, `/${prefix}/Reshape`);
  return linear(b, `${prefix}.${no}`, merged, width, width);
}

/** Nearest-neighbour ×2 (F.interpolate(scale_factor=2.0, mode="nearest")). */
export function upsampleNearest(b: OnnxBuilder, prefix: string, x: string): string {
  return b.op('Resize', [x, '', b.constF([1, 1, 2, 2])],
    { coordinate_transformation_mode: 'asymmetric', cubic_coeff_a: { f: -0.75 }, mode: 'nearest', nearest_mode: 'floor' }, `/${prefix}/Resize`);
}

/**
 * diffusers' ResnetBlock2D: GroupNorm → SiLU → conv1 (+ the time embedding's projection) →
 * GroupNorm → SiLU → conv2, plus the input (through a 1×1 conv_shortcut when widths differ).
 */
export function resnet(b: OnnxBuilder, prefix: string, x: string, cin: number, cout: number, eps: number,
  temb?: { value: string; width: number }): string {
  let h = conv(b, `${prefix}.conv1`, silu(b, `${prefix}/nonlinearity`, groupNorm(b, `${prefix}.norm1`, x, cin, eps)), cin, cout, 3);
  if (temb) {
    const t = linear(b, `${prefix}.time_emb_proj`, silu(b, `${prefix}/nonlinearity_1`, temb.value), temb.width, cout);
    h = b.op('Add', [h, b.op('Unsqueeze', [t, b.constI([2, 3])], {}, `/${prefix}/Unsqueeze`)], {}, `/${prefix}/Add`);
  }
  h = conv(b, `${prefix}.conv2`, silu(b, `${prefix}/nonlinearity_2`, groupNorm(b, `${prefix}.norm2`, h, cout, eps)), cout, cout, 3);
  const skip = cin === cout ? x : conv(b, `${prefix}.conv_shortcut`, x, cin, cout, 1);
  return b.op('Add', [skip, h], {}, `/${prefix}/Add_1`);
}

/** [B, C, H, W] → [B, H·W, C], and the [0, H, W, C] shape that undoes it. */
export function toTokens(b: OnnxBuilder, prefix: string, x: string, channels: number): { tokens: string; back: string } {
  const hw = b.op('Slice', [b.op('Shape', [x], {}, `/${prefix}/Shape`), b.constI([2]), b.constI([4]), b.constI([0])], {}, `/${prefix}/Slice`);
  const back = b.op('Concat', [b.constI([0]), hw, b.constI([channels])], { axis: 0 }, `/${prefix}/Concat`);
  const t = b.op('Transpose', [x], { perm: [0, 2, 3, 1] }, `/${prefix}/Transpose`);
  return { tokens: b.op('Reshape', [t, b.constI([0, -1, channels])], {}, `/${prefix}/Reshape`), back };
}

/** [B, H·W, C] → [B, C, H, W] with the shape from toTokens. */
export function fromTokens(b: OnnxBuilder, prefix: string, tokens: string, back: string): string {
  const r = b.op('Reshape', [tokens, back], {}, `/${prefix}/Reshape_1`);
  return b.op('Transpose', [r], { perm: [0, 3, 1, 2] }, `/${prefix}/Transpose_1`);
}
