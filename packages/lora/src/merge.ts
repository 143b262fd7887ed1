/**
 * Merging LoRAs into one Stable Diffusion ONNX folder: index the text encoder and UNet graphs
 * (cached per file, size and mtime), plan every patch (incompatibility is found before any work),
 * then produce patched graph bytes for the components the LoRAs touch.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoraComponent } from './lora-file.ts';
import { planMerge, type GraphIndexes, type LoraApplication } from './match.ts';
import { indexOnnxGraph, type OnnxGraphIndex } from './onnx/graph-index.ts';
import { patchGraph, type PatchedGraph } from './onnx/patch.ts';
import { unetLayout } from './sgm-names.ts';

/** Components a LoRA can touch, as folders of the export. */
export const LORA_COMPONENTS: readonly LoraComponent[] = ['unet', 'text_encoder', 'text_encoder_2'];

const indexes = new Map<string, { key: string; index: OnnxGraphIndex }>();

async function graphIndex(file: string): Promise<OnnxGraphIndex | undefined> {
  let st;
  try {
    st = await stat(file);
  } catch {
    return undefined;
  }
  const key = `${st.size}:${st.mtimeMs}`;
  const hit = indexes.get(file);
  if (hit?.key === key) return hit.index;
  const index = indexOnnxGraph(file);
  indexes.set(file, { key, index });
  return index;
}

/** The graph indexes of a model folder's components (absent components are left out). */
export async function modelGraphIndexes(modelDir: string, components: readonly LoraComponent[] = LORA_COMPONENTS): Promise<GraphIndexes> {
  const out: GraphIndexes = {};
  for (const c of components) {
    const index = await graphIndex(join(modelDir, c, 'model.onnx'));
    if (index) out[c] = index;
  }
  if (out.unet) {
    out.unetLayout = await readFile(join(modelDir, 'unet', 'config.json'), 'utf8')
      .then((t) => unetLayout(JSON.parse(t) as Record<string, unknown>)).catch(() => null);
  }
  return out;
}

/** Throws LoraIncompatibleError naming the first module that does not fit the model. */
export async function checkLorasFit(modelDir: string, apps: readonly LoraApplication[]): Promise<void> {
  const needed = [...new Set(apps.flatMap((a) => a.adapter.targets.map((t) => t.component)))];
  planMerge(apps, await modelGraphIndexes(modelDir, needed));
}

export interface MergedModel {
  /** Patched bytes for each component the LoRAs change. */
  graphs: Partial<Record<LoraComponent, PatchedGraph>>;
  /** Weights changed in all. */
  patched: number;
}

export async function mergeLoras(modelDir: string, apps: readonly LoraApplication[]): Promise<MergedModel> {
  const needed = [...new Set(apps.flatMap((a) => a.adapter.targets.map((t) => t.component)))];
  const graphs = await modelGraphIndexes(modelDir, needed);
  const plan = planMerge(apps, graphs);
  const out: MergedModel = { graphs: {}, patched: 0 };
  for (const [component, patches] of plan) {
    const g = await patchGraph(graphs[component]!, patches);
    out.graphs[component] = g;
    out.patched += g.patched;
  }
  return out;
}
