// The image safety checker as the worker applies it (SAFETY_MODE): off; flag (nsfw: true on the
// image); blur (a heavily blurred image is stored instead); block (nothing is stored for it). The
// checker comes from SAFETY_CHECKER_MODEL, else from the job's model folder when it has one; each
// folder's checker is loaded once and kept.
import { join } from 'node:path';
import sharp from 'sharp';
import type { SafetyMode } from '@sdsvc/config';
import { findSafetyChecker, SafetyChecker } from '@sdsvc/safety';

export interface SafetyImage { data: Uint8Array; width: number; height: number }

export type SafetyOutcome =
  | { action: 'keep'; nsfw: boolean }
  | { action: 'replace'; nsfw: true; image: SafetyImage }
  | { action: 'block'; nsfw: true };

export interface ImageSafetyOptions {
  modelsDir: string;
  /** SAFETY_CHECKER_MODEL. */
  checkerModel?: string;
  /** SAFETY_MODE; undefined: flag where a checker exists. */
  mode?: SafetyMode;
  executionProviders?: string[];
  log?: (message: string) => void;
}

/** Blur strong enough that nothing recognisable is left, whatever the size. */
export async function blurHeavily(img: SafetyImage): Promise<SafetyImage> {
  const sigma = Math.max(8, Math.max(img.width, img.height) / 12);
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).blur(sigma).raw().toBuffer();
  return { data: new Uint8Array(data), width: img.width, height: img.height };
}

export class ImageSafety {
  readonly #opts: ImageSafetyOptions;
  readonly #checkers = new Map<string, Promise<SafetyChecker | null>>();

  constructor(opts: ImageSafetyOptions) {
    this.#opts = opts;
  }

  get mode(): SafetyMode | undefined {
    return this.#opts.mode;
  }

  /** The checker for a model (null when none applies). */
  checkerFor(modelId: string): Promise<SafetyChecker | null> {
    if (this.#opts.mode === 'off') return Promise.resolve(null);
    const dir = this.#opts.checkerModel ?? join(this.#opts.modelsDir, modelId);
    let found = this.#checkers.get(dir);
    if (!found) {
      found = (async () => {
        if (!(await findSafetyChecker(dir))) {
          if (this.#opts.checkerModel) throw new Error(`SAFETY_CHECKER_MODEL ${dir} has no safety_checker/model.onnx with feature_extractor/`);
          return null;
        }
        const checker = await SafetyChecker.load(dir, { executionProviders: this.#opts.executionProviders });
        this.#opts.log?.(`safety checker loaded from ${dir} (mode ${this.#opts.mode ?? 'flag'})`);
        return checker;
      })();
      found.catch(() => this.#checkers.delete(dir));
      this.#checkers.set(dir, found);
    }
    return found;
  }

  /** What to do with one generated image. `skip`: the job set safety: false (an exempt key). */
  async review(modelId: string, image: SafetyImage, opts: { skip?: boolean } = {}): Promise<SafetyOutcome> {
    if (opts.skip) return { action: 'keep', nsfw: false };
    const checker = await this.checkerFor(modelId);
    if (!checker) return { action: 'keep', nsfw: false };
    const { nsfw } = await checker.check(image);
    if (!nsfw) return { action: 'keep', nsfw: false };
    switch (this.#opts.mode ?? 'flag') {
      case 'block': return { action: 'block', nsfw: true };
      case 'blur': return { action: 'replace', nsfw: true, image: await blurHeavily(image) };
      default: return { action: 'keep', nsfw: true };
    }
  }

  async close(): Promise<void> {
    for (const c of this.#checkers.values()) await (await c.catch(() => null))?.close();
    this.#checkers.clear();
  }
}
