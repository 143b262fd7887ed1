/**
 * What a model folder is, read from its JSON configs only (no onnxruntime here: the API imports
 * this to list models and validate request sizes without loading any graph).
 */
import { createHash } from 'node:crypto';
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
  /** Width of the text embeddings the UNet takes (SDXL: both encoders' widths concatenated). */
  textHiddenSize: number;
  /** SDXL models only: what the SDXL pipelines read from the folder. */
  sdxl?: SdxlInfo;
}

export type SdxlTextEncoderName = 'text_encoder' | 'text_encoder_2';

export interface SdxlInfo {
  /** Encoders the prompt goes through, in concatenation order (a refiner has only text_encoder_2). */
  textEncoders: SdxlTextEncoderName[];
  /** model_index.json: no negative prompt under CFG → zero negative embeddings. */
  forceZerosForEmptyPrompt: boolean;
  /** unet/config.json (refiners): the time ids end with an aesthetic score instead of the target size. */
  requiresAestheticsScore: boolean;
  /** Width of the pooled embedding (text_encoder_2's projection_dim). */
  pooledSize: number;
}

/** The SDXL pipelines' own strength defaults (StableDiffusionXLImg2Img / Inpaint Pipeline). */
export const SDXL_DEFAULT_STRENGTH = { img2img: 0.3, inpaint: 0.9999 } as const;
/** The img2img / inpaint pipelines' aesthetic score defaults (refiner-style models only). */
export const SDXL_DEFAULT_AESTHETIC_SCORE = { positive: 6.0, negative: 2.5 } as const;

/** A folder that is not a complete Stable Diffusion ONNX export. */
export class ModelFolderError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ModelFolderError';
    this.file = file;
  }
}

/** A recognised pipeline this engine cannot run. */
export class UnsupportedModelError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'UnsupportedModelError';
    this.file = file;
  }
}


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
  const isXl = /^(ORT|Onnx)?StableDiffusionXL(Inpaint|Img2Img)?Pipeline$/.test(pipelineClass);
  if (!isXl && !/^(OnnxStableDiffusion|StableDiffusion)(Inpaint|Img2Img)?Pipeline$/.test(pipelineClass)) {
    throw new ModelFolderError(indexFile, `_class_name "${pipelineClass}" is not a Stable Diffusion pipeline`);
  }
  const textEncoders = isXl ? await sdxlTextEncoders(dir, index) : ['text_encoder'];
  for (const g of [...textEncoders, 'unet', 'vae_decoder']) await requireFile(join(dir, g, 'model.onnx'));
  for (const e of textEncoders) {
    const tok = e === 'text_encoder' ? 'tokenizer' : 'tokenizer_2';
    for (const f of ['vocab.json', 'merges.txt']) await requireFile(join(dir, tok, f));
  }

  const unetFile = join(dir, 'unet', 'config.json');
  const unet = await readJson(unetFile);
  const schedFile = join(dir, 'scheduler', 'scheduler_config.json');
  const sched = await readJson(schedFile);
  // The VAE config sits beside either half of the VAE; the decoder is required, so prefer it.
  const vaeFile = join(dir, 'vae_decoder', 'config.json');
  const vae = await readJson(vaeFile);
  const textFile = join(dir, textEncoders[0]!, 'config.json');
  const text = await readJson(textFile).catch(() => ({}) as Json);

  const blocks = vae.block_out_channels;
  if (!Array.isArray(blocks) || blocks.length === 0) throw new ModelFolderError(vaeFile, 'expected "block_out_channels"');
  const vaeScaleFactor = 2 ** (blocks.length - 1);
  const unetBlocks = unet.block_out_channels;
  if (!Array.isArray(unetBlocks) || unetBlocks.length === 0) throw new ModelFolderError(unetFile, 'expected "block_out_channels"');
  if ((unet.addition_embed_type === 'text_time') !== isXl) {
    throw new ModelFolderError(unetFile, isXl
      ? `an SDXL pipeline needs a UNet with addition_embed_type "text_time" (got ${JSON.stringify(unet.addition_embed_type ?? null)})`
      : `addition_embed_type "text_time" is an SDXL UNet, but model_index.json's _class_name is "${pipelineClass}"`);
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
  const kind: ModelKind = isXl ? 'sdxl'
    : predictionType === 'v_prediction' || crossDim === 1024 || text.hidden_act === 'gelu' ? 'sd2' : 'sd1';
  let sdxl: SdxlInfo | undefined;
  if (isXl) {
    const te2File = join(dir, 'text_encoder_2', 'config.json');
    const te2 = await readJson(te2File).catch(() => ({}) as Json);
    sdxl = {
      textEncoders: textEncoders as SdxlTextEncoderName[],
      forceZerosForEmptyPrompt: index.force_zeros_for_empty_prompt !== false, // diffusers' default: true
      requiresAestheticsScore: unet.requires_aesthetics_score === true,
      pooledSize: num(unet, 'text_encoder_projection_dim', unetFile, num(te2, 'projection_dim', te2File, 1280)),
    };
  }

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
    textHiddenSize: isXl ? crossDim : num(text, 'hidden_size', textFile, crossDim),
    ...(sdxl ? { sdxl } : {}),
  };
}

/**
 * The encoders of an SDXL folder: both, or only text_encoder_2 when model_index.json sets
 * text_encoder to null (refiners). A folder whose index does not mention text_encoder uses it when present.
 */
async function sdxlTextEncoders(dir: string, index: Json): Promise<string[]> {
  const entry = index.text_encoder;
  const listed = Array.isArray(entry) ? entry[0] !== null && entry[1] !== null : entry !== undefined && entry !== null;
  const present = entry === undefined
    ? await stat(join(dir, 'text_encoder', 'model.onnx')).then((s) => s.isFile(), () => false)
    : listed;
  return present ? ['text_encoder', 'text_encoder_2'] : ['text_encoder_2'];
}

/** A folder under MODELS_DIR that has a model_index.json but cannot be used. */
export interface ModelProblem {
  /** Folder name (the id a request would use). */
  id: string;
  dir: string;
  /** `unsupported`: a recognised pipeline this engine cannot run; `invalid`: incomplete or not SD. */
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

/** What identifies an export without reading its weights: model_index.json's mtime (Unix s) and the
 *  sha256 of model_index.json + unet/config.json (hashing multi-GB weights per listing costs too much). */
export interface ExportIdentity { created: number; sha256: string }

export async function exportIdentity(dir: string): Promise<ExportIdentity> {
  const created = await stat(join(dir, 'model_index.json')).then((s) => Math.floor(s.mtimeMs / 1000), () => 0);
  const h = createHash('sha256');
  for (const file of ['model_index.json', join('unet', 'config.json')]) h.update(await readFile(join(dir, file)).catch(() => Buffer.alloc(0)));
  return { created, sha256: h.digest('hex') };
}

/** Why a width × height is not accepted by this model, or null when it is. */
export function checkSize(info: ModelInfo, width: number, height: number): string | null {
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v % info.sizeStep !== 0) return `${name} must be a multiple of ${info.sizeStep} for model ${info.id}`;
    if (v < info.minSize || v > info.maxSize) return `${name} must be between ${info.minSize} and ${info.maxSize} for model ${info.id}`;
  }
  return null;
}
