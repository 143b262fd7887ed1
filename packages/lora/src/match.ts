/**
 * Which graph weight each LoRA target changes, checked before any byte is touched: the module's
 * weight node must exist in the component's graph, hold a stored float initializer, and have the
 * LoRA's [out, in] shape. The first target that does not fit is a LoraIncompatibleError.
 */
import { LoraIncompatibleError } from './errors.ts';
import type { LoraAdapter, LoraComponent, LoraTarget } from './lora-file.ts';
import { sgmToDiffusers, type UnetLayout } from './sgm-names.ts';
import { ONNX_BFLOAT16, ONNX_FLOAT, ONNX_FLOAT16, type InitializerInfo, type OnnxGraphIndex, type WeightNode } from './onnx/graph-index.ts';

export interface LoraApplication {
  /** The LoRA's id, for messages. */
  name: string;
  adapter: LoraAdapter;
  scale: number;
}

export interface WeightPatch {
  module: string;
  node: WeightNode;
  init: InitializerInfo;
  out: number;
  inFlat: number;
  /** How W [out, in] is laid out in the initializer: transposed (MatMul, Gemm without transB) or not. */
  layout: 'in_out' | 'out_in';
  /** Applied in this order. */
  deltas: Array<{ target: LoraTarget; scale: number }>;
}

export type GraphIndexes = Partial<Record<LoraComponent, OnnxGraphIndex>> & {
  /** From unet/config.json: lets kohya's SGM-named UNet keys (input_blocks_…) find diffusers' modules. */
  unetLayout?: UnetLayout | null;
};

const dims = (d: number[]) => `[${d.join(', ')}]`;

/**
 * The graph's module path for a target: exact, else the one module whose path ends with it at a
 * component boundary (exports of a wrapped pipeline prefix every node name, e.g. `/m/text_model/…`).
 */
function findModule(index: OnnxGraphIndex, t: LoraTarget, layout: UnetLayout | null | undefined): string | undefined {
  const exact = t.kohya ? index.kohya.get(t.module) : (index.modules.has(t.module) ? t.module : undefined);
  if (exact !== undefined) return exact;
  const sgm = t.kohya && t.component === 'unet' && layout ? sgmToDiffusers(t.module, layout) : null;
  const wanted = sgm ?? t.module;
  if (sgm && index.kohya.has(sgm)) return index.kohya.get(sgm);
  const keys = t.kohya ? [...index.kohya.keys()] : [...index.modules.keys()];
  const tail = (t.kohya ? '_' : '.') + wanted;
  const hits = keys.filter((k) => k.endsWith(tail));
  if (hits.length !== 1) return undefined;
  return t.kohya ? index.kohya.get(hits[0]!) : hits[0];
}

function locate(t: LoraTarget, index: OnnxGraphIndex | undefined, lora: string, unetLayout?: UnetLayout | null): { node: WeightNode; init: InitializerInfo; layout: 'in_out' | 'out_in'; out: number; inFlat: number } {
  const fail = (why: string): never => { throw new LoraIncompatibleError(t.label, why, lora); };
  if (!index) return fail(`targets the ${t.component}, which this model does not have`);
  const module = findModule(index, t, unetLayout);
  const node = module === undefined ? undefined : index.modules.get(module);
  if (!node) return fail(`has no Linear or Conv weight in ${t.component}/model.onnx (no node /${(module ?? t.module).replaceAll('.', '/')}/MatMul)`);
  const init = node.weight === null ? undefined : index.initializers.get(node.weight);
  if (!init) return fail(`has a computed weight in ${t.component}/model.onnx (node ${node.node}), not a stored initializer`);
  if (![ONNX_FLOAT, ONNX_FLOAT16, ONNX_BFLOAT16].includes(init.dataType) || !init.data) {
    return fail(`has a weight the merge cannot patch (${init.name}: ONNX data type ${init.dataType}, ${init.data ? 'raw' : 'typed-field'} storage)`);
  }
  const out = t.up.shape[0]!;
  const inFlat = t.down.shape.slice(1).reduce((a, b) => a * b, 1);
  const want = `[out ${out}, in ${t.down.shape.slice(1).join('×')}]`;
  const d = init.dims;
  if (node.op === 'Conv') {
    const kernelOk = t.down.shape.length === 4 ? t.down.shape[2] === d[2] && t.down.shape[3] === d[3] : d[2] === 1 && d[3] === 1;
    if (d.length !== 4 || d[0] !== out || d[1]! * d[2]! * d[3]! !== inFlat || !kernelOk) {
      return fail(`is ${want} in the LoRA but the graph's Conv weight is ${dims(d)}`);
    }
    return { node, init, layout: 'out_in', out, inFlat };
  }
  if (t.down.shape.length !== 2) return fail(`is a convolution LoRA ${dims(t.down.shape)} but the graph has a ${node.op} there`);
  const layout = node.op === 'Gemm' && node.transB ? 'out_in' : 'in_out';
  const ok = d.length === 2 && (layout === 'in_out' ? d[0] === inFlat && d[1] === out : d[0] === out && d[1] === inFlat);
  if (!ok) return fail(`is ${want} in the LoRA but the graph's weight ${init.name} is ${dims(d)}${layout === 'in_out' ? ' (stored [in, out])' : ''}`);
  return { node, init, layout, out, inFlat };
}

/** Every weight the LoRAs change, per component, in a stable order; throws on the first misfit. */
export function planMerge(apps: readonly LoraApplication[], graphs: GraphIndexes): Map<LoraComponent, WeightPatch[]> {
  const plan = new Map<LoraComponent, Map<string, WeightPatch>>();
  for (const app of apps) {
    for (const t of app.adapter.targets) {
      const where = locate(t, graphs[t.component], app.name, graphs.unetLayout);
      let byModule = plan.get(t.component);
      if (!byModule) plan.set(t.component, (byModule = new Map()));
      let patch = byModule.get(where.node.module);
      if (!patch) byModule.set(where.node.module, (patch = { module: where.node.module, ...where, deltas: [] }));
      patch.deltas.push({ target: t, scale: app.scale });
    }
  }
  return new Map([...plan].map(([c, m]) => [c, [...m.values()]]));
}
