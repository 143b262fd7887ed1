// Which files of a Hugging Face repository make a Stable Diffusion ONNX export this service runs
// (diffusers / optimum layout), checked on the remote file list before anything is downloaded.
// The engine's readModelInfo checks the downloaded folder again before it is installed.

/** Folders the engine reads; everything else in the repository (safety checker, images, docs) is skipped. */
export const COMPONENT_DIRS = ['scheduler', 'tokenizer', 'tokenizer_2', 'text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder'] as const;

const ALWAYS = ['model_index.json', 'scheduler/scheduler_config.json', 'unet/model.onnx', 'unet/config.json', 'vae_decoder/model.onnx', 'vae_decoder/config.json'];
const encoder = (te: string, tok: string) => [`${te}/model.onnx`, `${tok}/vocab.json`, `${tok}/merges.txt`];

export interface LayoutCheck {
  ok: boolean;
  /** Required files that are not there. */
  missing: string[];
  /** Files to download (relative to the model root). */
  wanted: string[];
}

/** PyTorch / Flax / TF weights that repositories often keep beside the ONNX graphs: never needed. */
const FRAMEWORK_WEIGHTS = /\.(safetensors|bin|ckpt|pt|pth|msgpack|h5|pkl)$/i;

/** Is `path` (relative to the model root) part of what the engine reads? */
export function isWanted(path: string): boolean {
  if (path === 'model_index.json') return true;
  const top = path.split('/')[0]!;
  return (COMPONENT_DIRS as readonly string[]).includes(top) && path.includes('/') && !FRAMEWORK_WEIGHTS.test(path);
}

export function checkLayout(paths: readonly string[]): LayoutCheck {
  const have = new Set(paths);
  // One of the two text encoders (SDXL refiners have only the second).
  const encoders = [encoder('text_encoder', 'tokenizer'), encoder('text_encoder_2', 'tokenizer_2')];
  const best = encoders.find((files) => files.every((f) => have.has(f))) ?? encoders[0]!;
  const missing = [...ALWAYS, ...best].filter((f) => !have.has(f));
  return { ok: missing.length === 0, missing, wanted: paths.filter(isWanted) };
}

/** Folders of a repository that hold a model_index.json (where an export may sit: e.g. `onnx`). */
export function exportFolders(repoPaths: readonly string[]): string[] {
  return repoPaths.filter((p) => p === 'model_index.json' || p.endsWith('/model_index.json'))
    .map((p) => p.slice(0, -'model_index.json'.length).replace(/\/$/, ''));
}

export function describeMissing(check: LayoutCheck, repo: string, subfolder: string, folders: string[]): string {
  const where = subfolder ? `${repo} (subfolder ${subfolder})` : repo;
  const lines = [`${where} is not a Stable Diffusion ONNX export this service can run; missing: ${check.missing.join(', ')}`];
  const others = folders.filter((f) => f !== subfolder);
  if (others.length > 0) lines.push(`model_index.json found in: ${others.map((f) => f || '(repository root)').join(', ')}: try --subfolder ${others[0] || '""'}`);
  if (check.missing.some((m) => m.endsWith('.onnx'))) lines.push('PyTorch/safetensors weights need an ONNX export first (optimum-cli export onnx --model <repo> <dir>)');
  return lines.join('\n');
}
