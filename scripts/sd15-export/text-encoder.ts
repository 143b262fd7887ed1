/**
 * SD 1.5's CLIPTextModel (openai/clip-vit-large-patch14's text half): input_ids [B, seq] int64 →
 * last_hidden_state [B, seq, 768] and pooler_output [B, 768] (the state at each row's highest id,
 * the end-of-text token). 12 pre-norm layers, 12 heads, MLP 3072 with quick_gelu, causal mask.
 */
import type { OnnxBuilder } from './onnx-builder.ts';
import { attention, layerNorm, linear, quickGelu } from './layers.ts';

const VOCAB = 49408;
const POSITIONS = 77;
const WIDTH = 768;
const LAYERS = 12;
const HEADS = 12;
const MLP = 3072;

export const TEXT_ENCODER_CONFIG = {
  architectures: ['CLIPTextModel'], attention_dropout: 0.0, bos_token_id: 0, eos_token_id: 2, hidden_act: 'quick_gelu',
  hidden_size: WIDTH, initializer_factor: 1.0, initializer_range: 0.02, intermediate_size: MLP, layer_norm_eps: 1e-5,
  max_position_embeddings: POSITIONS, model_type: 'clip_text_model', num_attention_heads: HEADS, num_hidden_layers: LAYERS,
  pad_token_id: 1, projection_dim: WIDTH, torch_dtype: 'float32', transformers_version: '4.36.0', vocab_size: VOCAB,
};

export function buildTextEncoder(b: OnnxBuilder): void {
  const ids = b.input('input_ids', ['batch_size', 'sequence_length'], 'int64');
  const seq = b.op('Slice', [b.op('Shape', [ids], {}, '/Shape'), b.constI([1]), b.constI([2]), b.constI([0])], {}, '/Slice');
  const zero = b.constI([0]);

  const tokens = b.op('Gather', [b.weight('text_model.embeddings.token_embedding.weight', [VOCAB, WIDTH]), ids], { axis: 0 }, '/embeddings/token_embedding/Gather');
  const positionIds = b.op('Slice', [b.constI(Array.from({ length: POSITIONS }, (_, i) => i), [1, POSITIONS]), zero, seq, b.constI([1])], {}, '/embeddings/Slice');
  const positions = b.op('Gather', [b.weight('text_model.embeddings.position_embedding.weight', [POSITIONS, WIDTH]), positionIds], { axis: 0 }, '/embeddings/position_embedding/Gather');
  let h = b.op('Add', [tokens, positions], {}, '/embeddings/Add');

  // Causal mask: the float minimum above the diagonal, sliced to the sequence length.
  const mask = new Float32Array(POSITIONS * POSITIONS);
  for (let r = 0; r < POSITIONS; r++) for (let c = r + 1; c < POSITIONS; c++) mask[r * POSITIONS + c] = -3.4028234663852886e38;
  const causal = b.op('Slice', [b.constF(mask, [POSITIONS, POSITIONS]), b.constI([0, 0]), b.op('Concat', [seq, seq], { axis: 0 }, '/Concat'), b.constI([0, 1])], {}, '/Slice_1');

  for (let l = 0; l < LAYERS; l++) {
    const p = `text_model.encoder.layers.${l}`;
    const a = attention(b, `${p}.self_attn`, layerNorm(b, `${p}.layer_norm1`, h, WIDTH), WIDTH,
      { heads: HEADS, qkvBias: true, mask: causal, names: ['q_proj', 'k_proj', 'v_proj', 'out_proj'] });
    h = b.op('Add', [h, a], {}, `/${p}/Add`);
    const m = linear(b, `${p}.mlp.fc1`, layerNorm(b, `${p}.layer_norm2`, h, WIDTH), WIDTH, MLP);
    h = b.op('Add', [h, linear(b, `${p}.mlp.fc2`, quickGelu(b, `${p}/mlp/activation_fn`, m), MLP, WIDTH)], {}, `/${p}/Add_1`);
  }
  const last = layerNorm(b, 'text_model.final_layer_norm', h, WIDTH);

  // pooler_output: last_hidden_state[arange(B), input_ids.argmax(-1)].
  const eos = b.op('ArgMax', [b.op('Cast', [ids], { to: 1 }, '/Cast')], { axis: -1, keepdims: 1 }, '/ArgMax');
  const index = b.op('Expand', [b.op('Unsqueeze', [eos, b.constI([2])], {}, '/Unsqueeze'), b.constI([1, 1, WIDTH])], {}, '/Expand');
  const pooled = b.op('Squeeze', [b.op('GatherElements', [last, index], { axis: 1 }, '/GatherElements'), b.constI([1])], {}, '/Squeeze');
  b.finishOutput(last, 'last_hidden_state', ['batch_size', 'sequence_length', WIDTH]);
  b.finishOutput(pooled, 'pooler_output', ['batch_size', WIDTH]);
}
