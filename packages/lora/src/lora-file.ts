/**
 * A LoRA file's tensors grouped per target module, whatever the key naming:
 * - kohya / A1111: `lora_unet_<path with "_">.lora_down.weight` / `.lora_up.weight` / `.alpha`,
 *   `lora_te_…` (SDXL: `lora_te1_…`, `lora_te2_…`);
 * - diffusers: `unet.<module>.lora.down.weight` / `.lora.up.weight`,
 *   `text_encoder.<module>.lora_linear_layer.down.weight` / `.up.weight` (and the older
 *   `….processor.to_q_lora.down.weight` attention-processor keys);
 * - PEFT: `<component>.<module>.lora_A.weight` / `.lora_B.weight` (A = down, B = up).
 * No alpha means alpha = rank (diffusers and PEFT train that way). Kohya module paths keep their
 * underscores here: which "_" was a "." is only known against a model's graph (see match.ts).
 */
import { LoraFormatError } from './errors.ts';
import { parseSafetensors, type Tensor } from './safetensors.ts';

export type LoraNaming = 'kohya' | 'diffusers' | 'peft';
export type LoraComponent = 'unet' | 'text_encoder' | 'text_encoder_2';

export interface LoraTarget {
  component: LoraComponent;
  /** Module path: dotted (diffusers, PEFT) or kohya's underscored form (`kohya` true). */
  module: string;
  kohya: boolean;
  /** How the file names the module (`lora_unet_…`, `unet.down_blocks…`): used in error messages. */
  label: string;
  /** [rank, in] or [rank, in, kh, kw]. */
  down: Tensor;
  /** [out, rank] or [out, rank, 1, 1]. */
  up: Tensor;
  rank: number;
  alpha: number;
}

export interface LoraAdapter {
  naming: LoraNaming;
  targets: LoraTarget[];
  metadata: Record<string, string>;
}

interface Part { naming: LoraNaming; component: LoraComponent; module: string; kohya: boolean; role: 'down' | 'up' | 'alpha'; label: string }

const KOHYA_COMPONENT: Record<string, LoraComponent> = { unet: 'unet', te: 'text_encoder', te1: 'text_encoder', te2: 'text_encoder_2' };
const COMPONENTS = new Set<string>(['unet', 'text_encoder', 'text_encoder_2']);

function splitComponent(key: string): [LoraComponent, string] | null {
  const rest = key.startsWith('base_model.model.') ? key.slice('base_model.model.'.length) : key;
  const dot = rest.indexOf('.');
  const head = dot < 0 ? '' : rest.slice(0, dot);
  if (COMPONENTS.has(head)) return [head as LoraComponent, rest.slice(dot + 1)];
  // A bare PEFT save has no component prefix: CLIP modules start with text_model.
  if (rest.startsWith('text_model.')) return ['text_encoder', rest];
  if (/^(down_blocks|up_blocks|mid_block|conv_in|conv_out|time_embedding)\b/.test(rest)) return ['unet', rest];
  return null;
}

/** What one tensor name means, or null when it is not a LoRA key we know. */
export function classifyKey(key: string): Part | null {
  let m = /^lora_(unet|te|te1|te2)_(.+)\.(lora_down\.weight|lora_up\.weight|alpha)$/.exec(key);
  if (m) {
    const role = m[3] === 'alpha' ? 'alpha' : m[3]!.startsWith('lora_down') ? 'down' : 'up';
    return { naming: 'kohya', component: KOHYA_COMPONENT[m[1]!]!, module: m[2]!, kohya: true, role, label: `lora_${m[1]}_${m[2]}` };
  }
  const split = splitComponent(key);
  if (!split) return null;
  const [component, rest] = split;
  const part = (naming: LoraNaming, module: string, role: Part['role']): Part => ({ naming, component, module, kohya: false, role, label: `${component}.${module}` });
  m = /^(.+)\.(?:lora|lora_linear_layer)\.(down|up)\.weight$/.exec(rest);
  if (m) return part('diffusers', m[1]!, m[2] as 'down' | 'up');
  // diffusers' older attention-processor keys: attn1.processor.to_out_lora.up.weight → attn1.to_out.0
  m = /^(.+)\.processor\.(to_q|to_k|to_v|to_out)_lora\.(down|up)\.weight$/.exec(rest);
  if (m) {
    const proj = m[2] === 'to_out' ? 'to_out.0' : m[2]!;
    return part('diffusers', `${m[1]}.${proj}`, m[3] as 'down' | 'up');
  }
  m = /^(.+)\.lora_(A|B)(?:\.default)?\.weight$/.exec(rest);
  if (m) return part('peft', m[1]!, m[2] === 'A' ? 'down' : 'up');
  m = /^(.+)\.alpha$/.exec(rest);
  if (m) return part('diffusers', m[1]!, 'alpha');
  return null;
}

function checkPair(name: string, down: Tensor, up: Tensor): number {
  const rank = down.shape[0]!;
  const downOk = (down.shape.length === 2 || down.shape.length === 4) && rank > 0 && down.shape.slice(1).every((d) => d > 0);
  if (!downOk) throw new LoraFormatError(`${name}: down has shape ${JSON.stringify(down.shape)}, want [rank, in] or [rank, in, kh, kw]`, name);
  const upOk = (up.shape.length === 2 || (up.shape.length === 4 && up.shape[2] === 1 && up.shape[3] === 1)) && up.shape[0]! > 0;
  if (!upOk) throw new LoraFormatError(`${name}: up has shape ${JSON.stringify(up.shape)}, want [out, rank] or [out, rank, 1, 1]`, name);
  if (up.shape[1] !== rank) throw new LoraFormatError(`${name}: up has rank ${up.shape[1]} but down has rank ${rank}`, name);
  if (up.shape.length !== down.shape.length) throw new LoraFormatError(`${name}: up ${JSON.stringify(up.shape)} and down ${JSON.stringify(down.shape)} differ in rank`, name);
  return rank;
}

/**
 * The LoRA in a safetensors file. With `shapesOnly` (checking names and shapes against a model,
 * listing), `bytes` may be just the header prefix of a `fileSize`-byte file: tensors have no data
 * and alpha is NaN.
 */
export function readLora(bytes: Uint8Array, opts: { shapesOnly?: boolean; fileSize?: number } = {}): LoraAdapter {
  const { tensors, metadata } = parseSafetensors(bytes, opts);
  const groups = new Map<string, { part: Part; down?: Tensor; up?: Tensor; alpha?: Tensor; keys: string[] }>();
  const namings = new Map<LoraNaming, number>();
  for (const [key, tensor] of tensors) {
    const part = classifyKey(key);
    if (!part) throw new LoraFormatError(`tensor ${key}: not a LoRA key in kohya, diffusers or PEFT naming (LyCORIS types such as LoHa/LoKr are not supported)`, key);
    if (part.role !== 'alpha') namings.set(part.naming, (namings.get(part.naming) ?? 0) + 1);
    const id = `${part.component}:${part.module}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { part, keys: [] }));
    g.keys.push(key);
    if (g[part.role]) throw new LoraFormatError(`tensor ${key}: a second ${part.role} tensor for ${part.module}`, key);
    g[part.role] = tensor;
  }
  const targets: LoraTarget[] = [];
  for (const g of groups.values()) {
    const name = `${g.part.component}.${g.part.module}`;
    if (!g.down || !g.up) throw new LoraFormatError(`${name}: has ${g.down ? 'no up' : 'no down'} tensor (${g.keys.join(', ')})`, g.keys[0]!);
    const rank = checkPair(name, g.down, g.up);
    let alpha = rank;
    if (g.alpha) {
      if (g.alpha.shape.reduce((a, b) => a * b, 1) !== 1) throw new LoraFormatError(`${name}: alpha has shape ${JSON.stringify(g.alpha.shape)}, want a scalar`, name);
      alpha = opts.shapesOnly ? Number.NaN : g.alpha.data[0]!;
      if (!opts.shapesOnly && !Number.isFinite(alpha)) throw new LoraFormatError(`${name}: alpha is ${alpha}`, name);
    }
    targets.push({ component: g.part.component, module: g.part.module, kohya: g.part.kohya, label: g.part.label, down: g.down, up: g.up, rank, alpha });
  }
  if (targets.length === 0) throw new LoraFormatError('the file holds no LoRA tensors');
  // The naming most keys use (files converted by tools sometimes mix diffusers and PEFT keys).
  const naming = [...namings.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  return { naming, targets, metadata };
}

/** What GET /v1/loras shows: the naming, the distinct ranks and the components touched. */
export function summarize(adapter: LoraAdapter): { naming: LoraNaming; ranks: number[]; components: LoraComponent[] } {
  return {
    naming: adapter.naming,
    ranks: [...new Set(adapter.targets.map((t) => t.rank))].sort((a, b) => a - b),
    components: [...new Set(adapter.targets.map((t) => t.component))].sort(),
  };
}
