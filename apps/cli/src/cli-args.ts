/** Command-line options of `npm run generate`, validated, with paths resolved from INIT_CWD. */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { isLoraId, loraFilePath } from '@sdsvc/lora';

export interface CliOptions {
  model: string;
  prompt: string;
  negativePrompt?: string;
  promptSyntax: 'plain' | 'a1111';
  width?: number;
  height?: number;
  steps: number;
  guidanceScale: number;
  scheduler?: string;
  seed: number;
  numImages: number;
  out: string;
  initImage?: string;
  maskImage?: string;
  strength?: number;
  maskBlur: number;
  resizeMode: 'resize' | 'crop' | 'fill';
  overlay: boolean;
  invertMask: boolean;
  /** --lora NAME_OR_FILE[:SCALE], repeatable: files resolved, names as written (looked up in LORA_DIR). */
  loras: CliLora[];
  /** No --strength given: `strength` is the API's SD default; SDXL models use their own (0.3 / 0.9999). */
  strengthIsDefault?: boolean;
  /** SDXL only (the engine refuses them on other models). */
  sdxl: CliSdxlOptions;
}

export interface CliSdxlOptions {
  prompt2?: string;
  negativePrompt2?: string;
  originalSize?: { width: number; height: number };
  targetSize?: { width: number; height: number };
  cropsCoordsTopLeft?: { top: number; left: number };
  negativeOriginalSize?: { width: number; height: number };
  negativeTargetSize?: { width: number; height: number };
  negativeCropsCoordsTopLeft?: { top: number; left: number };
  aestheticScore?: number;
  negativeAestheticScore?: number;
}

export interface CliLora {
  /** A LoRA id in LORA_DIR, or null when a file was given. */
  name: string | null;
  /** The .safetensors file (resolved). */
  file: string;
  scale: number;
}

/**
 * The HTTP API's defaults (packages/contracts' job request: A1111 prompt syntax, strength 0.75 for
 * img2img and 1 for inpaint, mask blur 4, resize mode resize, overlay on), so a CLI run and an API
 * job with the same arguments give the same image.
 */
export const DEFAULTS = {
  promptSyntax: 'a1111',
  steps: 20,
  guidanceScale: 7.5,
  numImages: 1,
  img2imgStrength: 0.75,
  inpaintStrength: 1,
  maskBlur: 4,
  resizeMode: 'resize',
} as const;

export const USAGE = `usage: npm run generate -- --model DIR --prompt "…" --out out.png [options]
  --negative-prompt "…"
  --prompt-syntax a1111|plain   a1111 (default, as the API): (word:1.3) weights, BREAK, long prompts;
                                plain: diffusers' exact behaviour (no weights, truncated at 77 tokens)
  --width N --height N          default: the model's native size (or the init image's size)
  --steps N                     default ${DEFAULTS.steps}
  --guidance-scale X            default ${DEFAULTS.guidanceScale}
  --scheduler NAME              default: the model's own
  --seed N                      default: random
  --num-images N                default ${DEFAULTS.numImages}
  --init-image FILE             img2img (inpaint with --mask-image)
  --mask-image FILE             white = repaint, black = keep
  --strength X                  default ${DEFAULTS.img2imgStrength} (img2img), ${DEFAULTS.inpaintStrength} (inpaint)
  --mask-blur N                 default ${DEFAULTS.maskBlur} pixels
  --resize-mode resize|crop|fill  default ${DEFAULTS.resizeMode}
  --invert-mask  --no-overlay
SDXL models only:
  --prompt-2 "…" --negative-prompt-2 "…"   text for the second encoder (default: --prompt / --negative-prompt)
  --original-size WxH --target-size WxH     micro-conditioning (default: the output size)
  --crops-coords-top-left TOP,LEFT          default 0,0
  --negative-original-size WxH --negative-target-size WxH --negative-crops-coords-top-left TOP,LEFT
  --aesthetic-score X --negative-aesthetic-score X   refiner-style models (default 6 / 2.5)
  Without --negative-prompt an SDXL model uses zero negative embeddings; --negative-prompt "" is encoded.
  --strength defaults to 0.3 (img2img) and 0.9999 (inpaint) on SDXL models.
  --lora NAME_OR_FILE[:SCALE]   apply a LoRA (repeatable): a .safetensors file, or a name in LORA_DIR
                                (default ./loras); scale −4…4, default 1. <lora:name:0.8> prompt tags work too
Defaults are the HTTP API's. With several images, out.png becomes out-0.png, out-1.png, …
Animation: npm run generate -- --model DIR --animation settings.json --out anim.webp (the API's animation fields as JSON)
Read an invisible watermark: npm run generate -- --detect-watermark FILE [--watermark-payload TEXT|0xHEX]`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min} (got "${v}")`);
  return n;
}

function float(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number (got "${v}")`);
  return n;
}

export function parseCliArgs(argv: string[], baseDir = process.env.INIT_CWD ?? process.cwd()): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: 'string' }, prompt: { type: 'string' }, 'negative-prompt': { type: 'string' },
        'prompt-syntax': { type: 'string' }, width: { type: 'string' }, height: { type: 'string' },
        steps: { type: 'string' }, 'guidance-scale': { type: 'string' }, scheduler: { type: 'string' },
        seed: { type: 'string' }, 'num-images': { type: 'string' }, out: { type: 'string' },
        'init-image': { type: 'string' }, 'mask-image': { type: 'string' }, strength: { type: 'string' },
        'mask-blur': { type: 'string' }, 'resize-mode': { type: 'string' }, 'no-overlay': { type: 'boolean' },
        'invert-mask': { type: 'boolean' }, help: { type: 'boolean' }, lora: { type: 'string', multiple: true },
        'prompt-2': { type: 'string' }, 'negative-prompt-2': { type: 'string' },
        'original-size': { type: 'string' }, 'target-size': { type: 'string' }, 'crops-coords-top-left': { type: 'string' },
        'negative-original-size': { type: 'string' }, 'negative-target-size': { type: 'string' },
        'negative-crops-coords-top-left': { type: 'string' },
        'aesthetic-score': { type: 'string' }, 'negative-aesthetic-score': { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  if (!values.model) throw new UsageError('--model is required');
  if (values.prompt === undefined) throw new UsageError('--prompt is required');
  if (!values.out) throw new UsageError('--out is required');
  if (values['mask-image'] && !values['init-image']) throw new UsageError('--mask-image needs --init-image');
  const syntax = values['prompt-syntax'] ?? DEFAULTS.promptSyntax;
  if (syntax !== 'plain' && syntax !== 'a1111') throw new UsageError('--prompt-syntax must be plain or a1111');
  const resizeMode = values['resize-mode'] ?? DEFAULTS.resizeMode;
  if (resizeMode !== 'resize' && resizeMode !== 'crop' && resizeMode !== 'fill') throw new UsageError('--resize-mode must be resize, crop or fill');
  const strength = float('strength', values.strength);
  if (strength !== undefined && !(strength > 0 && strength <= 1)) throw new UsageError('--strength must be in (0, 1]');
  const path = (p: string | undefined) => (p === undefined ? undefined : resolve(baseDir, p));
  const opts: CliOptions = {
    model: path(values.model)!,
    prompt: values.prompt,
    promptSyntax: syntax,
    steps: int('steps', values.steps, 1) ?? DEFAULTS.steps,
    guidanceScale: float('guidance-scale', values['guidance-scale']) ?? DEFAULTS.guidanceScale,
    seed: int('seed', values.seed, 0) ?? Math.floor(Math.random() * 2 ** 32),
    numImages: int('num-images', values['num-images'], 1) ?? DEFAULTS.numImages,
    out: path(values.out)!,
    maskBlur: int('mask-blur', values['mask-blur'], 0) ?? DEFAULTS.maskBlur,
    resizeMode,
    overlay: !values['no-overlay'],
    invertMask: values['invert-mask'] ?? false,
    loras: (values.lora ?? []).map((spec) => parseLoraSpec(spec, baseDir)),
    sdxl: {},
  };
  const xl = opts.sdxl;
  if (values['prompt-2'] !== undefined) xl.prompt2 = values['prompt-2'];
  if (values['negative-prompt-2'] !== undefined) xl.negativePrompt2 = values['negative-prompt-2'];
  for (const [flag, key] of [['original-size', 'originalSize'], ['target-size', 'targetSize'], ['negative-original-size', 'negativeOriginalSize'], ['negative-target-size', 'negativeTargetSize']] as const) {
    const v = values[flag];
    if (v !== undefined) xl[key] = parseSize(flag, v);
  }
  for (const [flag, key] of [['crops-coords-top-left', 'cropsCoordsTopLeft'], ['negative-crops-coords-top-left', 'negativeCropsCoordsTopLeft']] as const) {
    const v = values[flag];
    if (v !== undefined) xl[key] = parseCrop(flag, v);
  }
  const aesthetic = float('aesthetic-score', values['aesthetic-score']);
  const negativeAesthetic = float('negative-aesthetic-score', values['negative-aesthetic-score']);
  if (aesthetic !== undefined) xl.aestheticScore = aesthetic;
  if (negativeAesthetic !== undefined) xl.negativeAestheticScore = negativeAesthetic;
  if (values['negative-prompt'] !== undefined) opts.negativePrompt = values['negative-prompt'];
  const width = int('width', values.width, 1);
  const height = int('height', values.height, 1);
  if (width !== undefined) opts.width = width;
  if (height !== undefined) opts.height = height;
  if (values.scheduler) opts.scheduler = values.scheduler;
  if (values['init-image']) opts.initImage = path(values['init-image']);
  if (values['mask-image']) opts.maskImage = path(values['mask-image']);
  if (opts.initImage) {
    opts.strength = strength ?? (opts.maskImage ? DEFAULTS.inpaintStrength : DEFAULTS.img2imgStrength);
    opts.strengthIsDefault = strength === undefined;
  }
  return opts;
}

/** `1024x768` (width × height). */
function parseSize(flag: string, v: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/i.exec(v.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`--${flag} must be WIDTHxHEIGHT, e.g. 1024x1024 (got "${v}")`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** `TOP,LEFT`. */
function parseCrop(flag: string, v: string): { top: number; left: number } {
  const m = /^(\d+),(\d+)$/.exec(v.replace(/\s+/g, ''));
  if (!m) throw new UsageError(`--${flag} must be TOP,LEFT, e.g. 0,0 (got "${v}")`);
  return { top: Number(m[1]), left: Number(m[2]) };
}

/** Where LoRA names are looked up: LORA_DIR (as the service reads it), else ./loras. */
export function cliLoraDir(baseDir = process.env.INIT_CWD ?? process.cwd()): string {
  return resolve(baseDir, process.env.LORA_DIR ?? 'loras');
}

/** `ink`, `styles/ink:0.6`, `./my.safetensors:-1`: a trailing `:number` is the scale. */
export function parseLoraSpec(spec: string, baseDir = process.env.INIT_CWD ?? process.cwd()): CliLora {
  const m = /^(.+?):([+-]?(?:\d+(?:\.\d*)?|\.\d+))$/.exec(spec);
  const ref = (m ? m[1]! : spec).trim();
  const scale = m ? Number(m[2]) : 1;
  if (ref === '') throw new UsageError(`--lora ${spec}: name or file missing`);
  if (Math.abs(scale) > 4) throw new UsageError(`--lora ${spec}: scale must be within −4…4`);
  if (ref.endsWith('.safetensors')) return { name: null, file: resolve(baseDir, ref), scale };
  if (!isLoraId(ref)) throw new UsageError(`--lora ${spec}: "${ref}" is neither a .safetensors file nor a LoRA name`);
  return { name: ref, file: loraFilePath(cliLoraDir(baseDir), ref), scale };
}

/** out.png → out-0.png
, out-1.png … when there are several images. */
export function outputPath(out: string, index: number, count: number): string {
  if (count === 1) return out;
  const dot = out.lastIndexOf('.');
  const slash = Math.max(out.lastIndexOf('/'), out.lastIndexOf('\\'));
  return dot > slash ? `${out.slice(0, dot)}-${index}${out.slice(dot)}` : `${out}-${index}`;
}
