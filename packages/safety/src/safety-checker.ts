// diffusers' StableDiffusionSafetyChecker, ONNX export (safety_checker/model.onnx + its
// feature_extractor/preprocessor_config.json): one verdict per generated image. The graph is called
// with one image at a time, as diffusers' ONNX pipeline does: the exported graph mishandles larger
// batches (its Where broadcasts the flags over the channel axis).
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { findInput, floatTensor, requireFloat } from '@sdsvc/engine/graph-io';
import { clipInput, readPreprocessConfig, type ClipPreprocessConfig, type Rgb8 } from './clip-preprocess.ts';

export interface SafetyVerdict { nsfw: boolean }

export interface SafetyCheckerOptions {
  /** ONNX Runtime execution providers, CPU last (default ['cpu']). */
  executionProviders?: string[];
  intraOpNumThreads?: number;
}

/** The checker folder inside `dir`: a model folder with safety_checker/ + feature_extractor/. */
export async function findSafetyChecker(dir: string): Promise<{ graph: string; preprocessor: string } | null> {
  const graph = join(dir, 'safety_checker', 'model.onnx');
  const preprocessor = join(dir, 'feature_extractor', 'preprocessor_config.json');
  try {
    await access(graph);
    await access(preprocessor);
    return { graph, preprocessor };
  } catch {
    return null;
  }
}

export class SafetyChecker {
  readonly #session: ort.InferenceSession;
  readonly #config: ClipPreprocessConfig;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(session: ort.InferenceSession, config: ClipPreprocessConfig) {
    this.#session = session;
    this.#config = config;
  }

  /** Loads the checker of the model folder `dir`; throws when the folder has none. */
  static async load(dir: string, opts: SafetyCheckerOptions = {}): Promise<SafetyChecker> {
    const files = await findSafetyChecker(dir);
    if (!files) throw new Error(`no safety checker in ${dir} (needs safety_checker/model.onnx and feature_extractor/preprocessor_config.json)`);
    const config = await readPreprocessConfig(files.preprocessor);
    const session = await ort.InferenceSession.create(files.graph, {
      executionProviders: [...(opts.executionProviders ?? []).filter((p) => p !== 'cpu'), 'cpu'],
      graphOptimizationLevel: 'all',
      ...(opts.intraOpNumThreads ? { intraOpNumThreads: opts.intraOpNumThreads } : {}),
    });
    return new SafetyChecker(session, config);
  }

  /** The preprocessed model input of one image, float32 [1, 3, 224, 224]. */
  clipInput(img: Rgb8): Float32Array {
    return clipInput(img, this.#config);
  }

  /** Checks one 8-bit RGB image. Calls are serialised (one graph run at a time). */
  check(img: Rgb8): Promise<SafetyVerdict> {
    const run = this.#queue.then(() => this.#run(img));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #run(img: Rgb8): Promise<SafetyVerdict> {
    const { width: cw, height: ch } = this.#config.crop;
    const pixels = new Float32Array(img.data.length);
    for (let i = 0; i < pixels.length; i++) pixels[i] = img.data[i]! / 255;
    // fp16 exports (next to fp16 pipelines) take half-precision inputs.
    const typeOf = (name: string) => requireFloat(findInput(this.#session, 'safety_checker/model.onnx', [name]), 'safety_checker/model.onnx');
    const out = await this.#session.run({
      clip_input: floatTensor(typeOf('clip_input'), this.clipInput(img), [1, 3, ch, cw]),
      images: floatTensor(typeOf('images'), pixels, [1, img.height, img.width, 3]),
    }, ['has_nsfw_concepts']);
    const flags = out.has_nsfw_concepts!.data as unknown as ArrayLike<boolean | number>;
    return { nsfw: Boolean(flags[0]) };
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}
