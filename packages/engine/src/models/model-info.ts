/**
 * What a model folder is, read from its JSON configs only (no onnxruntime here: the API imports
 * this to list models and validate request sizes without loading any graph).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { SCHEDULER_NAMES } from '../schedulers/registry.ts';

export type ModelKind = 'sd1' | 'sd2' | 'sdxl' | 'unknown';
export type Capability = 'txt2img' | 'img2img' | 'inpaint';

export interface ModelInfo {
  id: string;
  dir: string;
  kind: ModelKind;
  pipelineClass: string;
  capabilities: Capability[];
  /** Default output size in pixels (unet sample_size × VAE factor). */
  nativeSize: number;
  /** Width and height must be multiples of this (VAE factor × 2^UNet downsamplings). */
  sizeStep: number;
  minSize: number;
  maxSize: number;
  unetInChannels: number;
  latentChannels: number;
  vaeScaleFactor: number;
  scalingFactor: number;
  predictionType: 'epsilon' | 'v_prediction' | 'sample';
  /** The scheduler_config.json class, e.g. "PNDMScheduler". */
  defaultScheduler: string;
  /** Stable names a request may choose (the model's own scheduler is always allowed as "default"). */
  schedulers: string[];
  /** text encoder hidden size (for embeddings sizing). */
  textHiddenSize: number;
}

/** A folder that is not a complete Stable Diffusion ONNX export. */
export class ModelFolderError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ModelFolderError';
    this.file = file;
  }
}

/** A recognised pipeline this engine cannot run yet (SDXL). */
export class UnsupportedModelError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'UnsupportedModelError';
    this.file = file;
  }
}


const REQUIRED_GRAPHS = ['text_encoder', 'unet', 'vae_decoder'] as const;
const MAX_LATENT_SIDE = 256; // 2048 px at factor 8: beyond that memory, not correctness, fails.

type Json = Record<string, unknown>;

async function readJson(file: string): Promise<Json> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ModelFolderError(file, `missing or unreadable (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Json;
  } catch (err) {
    throw new ModelFolderError(file, `invalid JSON (${(err as Error).message})`);
  }
}

async function requireFile(file: string): Promise<void> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new Error('not a file');
  } catch {
    throw new ModelFolderError(file, 'missing: not a complete Stable Diffusion ONNX export');
  }
}

function num(json: Json, key: string, file: string, fallback?: number): number {
  const v = json[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v === undefined && fallback !== undefined) return fallback;
  throw new ModelFolderError(file, `expected a number at "${key}"`);
}

/** Reads one model folder. Throws ModelFolderError / UnsupportedModelError naming the file. */
export async function readModelInfo(dirIn: string): Promise<ModelInfo> {
  const dir = resolve(dirIn);
  const indexFile = join(dir, 'model_index.json');
  const index = await readJson(indexFile);
  const pipelineClass = String(index._class_name ?? '');
  if (pipelineClass.includes('XL') || 'text_encoder_2' in index) {
    throw new UnsupportedModelError(indexFile, `${pipelineClass || 'SDXL'} is not supported yet (SDXL needs text_encoder_2 and extra UNet inputs)`);
  }
  if (!/^(OnnxStableDiffusion|StableDiffusion)(Inpaint|Img2Img)?Pipeline$/.test(pipelineClass)) {
    throw new ModelFolderError(indexFile, `_class_name "${pipelineClass}" is not a Stable Diffusion pipeline`);
  }
  for (const g of REQUIRED_GRAPHS) await requireFile(join(dir, g, 'model.onnx'));
  for (const f of ['vocab.json', 'merges.txt']) await requireFile(join(dir, 'tokenizer', f));

  const unetFile = join(dir, 'unet', 'config.json');
  const unet = await readJson(unetFile);
  const schedFile = join(dir, 'scheduler', 'scheduler_config.json');
  const sched = await readJson(schedFile);
  // The VAE config sits beside either half of the VAE; the decoder is required, so prefer it.
  const vaeFile = join(dir, 'vae_decoder', 'config.json');
  const vae = await readJson(vaeFile);
  const textFile = join(dir, 'text_encoder', 'config.json');
  const text = await readJson(textFile).catch(() => ({}) as Json);

  const blocks = vae.block_out_channels;
  if (!Array.isArray(blocks) || blocks.length === 0) throw new ModelFolderError(vaeFile, 'expected "block_out_channels"');
  const vaeScaleFactor = 2 ** (blocks.length - 1);
  const unetBlocks = unet.block_out_channels;
  if (!Array.isArray(unetBlocks) || unetBlocks.length === 0) throw new ModelFolderError(unetFile, 'expected "block_out_channels"');
  if (unet.addition_embed_type === 'text_time') {
    throw new UnsupportedModelError(unetFile, 'SDXL UNet (addition_embed_type "text_time") is not supported yet');
  }
  const sizeStep = vaeScaleFactor * 2 ** (unetBlocks.length - 1);
  const sampleSize = num(unet, 'sample_size', unetFile);
  const unetInChannels = num(unet, 'in_channels', unetFile);
  const latentChannels = num(vae, 'latent_channels', vaeFile, 4);
  if (unetInChannels !== latentChannels && unetInChannels !== 2 * latentChannels + 1) {
    throw new ModelFolderError(unetFile, `in_channels ${unetInChannels} is neither ${latentChannels} nor ${2 * latentChannels + 1} (inpainting)`);
  }
  const inpaintOnly = unetInChannels === 2 * latentChannels + 1;
  const hasEncoder = await stat(join(dir, 'vae_encoder', 'model.onnx')).then((s) => s.isFile(), () => false);
  const capabilities: Capability[] = inpaintOnly
    ? (hasEncoder ? ['inpaint'] : [])
    : hasEncoder ? ['txt2img', 'img2img', 'inpaint'] : ['txt2img'];
  if (capabilities.length === 0) throw new ModelFolderError(join(dir, 'vae_encoder', 'model.onnx'), 'missing: an inpainting model needs its VAE encoder');

  const crossDim = num(unet, 'cross_attention_dim', unetFile, 768);
  const predictionType = (sched.prediction_type ?? 'epsilon') as ModelInfo['predictionType'];
  const kind: ModelKind = predictionType === 'v_prediction' || crossDim === 1024 || text.hidden_act === 'gelu' ? 'sd2' : 'sd1';

  return {
    id: basename(dir),
    dir,
    kind,
    pipelineClass,
    capabilities,
    nativeSize: sampleSize * vaeScaleFactor,
    sizeStep,
    minSize: sizeStep,
    maxSize: Math.floor((MAX_LATENT_SIDE * vaeScaleFactor) / sizeStep) * sizeStep,
    unetInChannels,
    latentChannels,
    vaeScaleFactor,
    scalingFactor: num(vae, 'scaling_factor', vaeFile, 0.18215),
    predictionType,
    defaultScheduler: String(sched._class_name ?? 'PNDMScheduler'),
    schedulers: [...SCHEDULER_NAMES],
    textHiddenSize: num(text, 'hidden_size', textFile, crossDim),
  };
}

/** A folder under MODELS_DIR that has a model_index.json but cannot be used. */
export interface ModelProblem {
  /** Folder name (the id a request would use). */
  id: string;
  dir: string;
  /** `unsupported`: a recognised pipeline this engine cannot run (SDXL); `invalid`: incomplete or not SD. */
  kind: 'unsupported' | 'invalid';
  /** The file at fault, when known. */
  file: string | null;
  /** Why, with paths relative to the model folder (safe to show to API clients). */
  message: string;
}

export interface ModelScan {
  /** Usable models, sorted by id. */
  models: ModelInfo[];
  /** Unusable folders, sorted by id. */
  problems: ModelProblem[];
}

function describeProblem(id: string, dir: string, err: unknown): ModelProblem {
  if (err instanceof ModelFolderError || err instanceof UnsupportedModelError) {
    const why = err.message.startsWith(`${err.file}: `) ? err.message.slice(err.file.length + 2) : err.message;
    const rel = relative(dir, err.file);
    return { id, dir, kind: err instanceof UnsupportedModelError ? 'unsupported' : 'invalid', file: err.file,
      message: `${rel && !rel.startsWith('..') ? rel : basename(err.file)}: ${why}` };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { id, dir, kind: 'invalid', file: null, message: message.split(dir).join('.') };
}

async function isDirectory(path: string): Promise<boolean> {
  return await stat(path).then((s) => s.isDirectory(), () => false);
}

/**
 * Every model folder under modelsDir (folders, or links to folders, with a model_index.json):
 * the usable ones, and one problem per folder that cannot be used (SDXL, incomplete export, bad
 * JSON). One bad folder never hides the others. Throws only when modelsDir itself is unreadable.
 */
export async function scanModels(modelsDir: string): Promise<ModelScan> {
  const root = resolve(modelsDir);
  const entries = await readdir(root, { withFileTypes: true });
  const scan: ModelScan = { models: [], problems: [] };
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = join(root, e.name);
    if (!(e.isDirectory() || (e.isSymbolicLink() && await isDirectory(dir)))) continue;
    const hasIndex = await stat(join(dir, 'model_index.json')).then(() => true, () => false);
    if (!hasIndex) continue;
    try {
      scan.models.push(await readModelInfo(dir));
    } catch (err) {
      scan.problems.push(describeProblem(e.name, dir, err));
    }
  }
  return scan;
}

/** The usable models under modelsDir, sorted by id (scanModels without the problems). */
export async function listModels(modelsDir: string): Promise<ModelInfo[]> {
  return (await scanModels(modelsDir)).models;
}

/** Why a width × height is not accepted by this model, or null when it is. */
export function checkSize(info: ModelInfo, width: number, height: number): string | null {
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v % info.sizeStep !== 0) return `${name} must be a multiple of ${info.sizeStep} for model ${info.id}`;
    if (v < info.minSize || v > info.maxSize) return `${name} must be between ${info.minSize} and ${info.maxSize} for model ${info.id}`;
  }
  return null;
}
