// `npm run generate -- --model DIR --animation settings.json --out anim.webp`: an animation job on
// the engine directly. The settings file takes the API's animation fields (type may be left out;
// init_image is a file path relative to where npm runs); the same validation as the API applies.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeAnimation, renderAnimation } from '@sdsvc/animation';
import { HttpProblem } from '@sdsvc/contracts';
import { StableDiffusionPipeline } from '@sdsvc/engine';
import { decodeInputImage, fitImage } from '@sdsvc/images';
import { prepareAnimation } from '@sdsvc/submission';
import { progressBar } from './progress-bar.ts';

const MAX_INPUT_PIXELS = 4096 * 4096;

export class AnimationUsageError extends Error {}

export async function animateCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { model: { type: 'string' }, animation: { type: 'string' }, out: { type: 'string' } }, strict: false });
  const cwd = env.INIT_CWD ?? process.cwd();
  if (typeof values.model !== 'string' || typeof values.animation !== 'string' || typeof values.out !== 'string') {
    throw new AnimationUsageError('--animation needs --model DIR and --out FILE');
  }
  const settingsFile = resolve(cwd, values.animation);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(await readFile(settingsFile, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new AnimationUsageError(`cannot read ${settingsFile}: ${(err as Error).message}`);
  }
  const pipe = await StableDiffusionPipeline.load(resolve(cwd, values.model), { warmup: false });
  try {
    const initFile = typeof body.init_image === 'string' ? resolve(cwd, body.init_image) : undefined;
    let prepared;
    try {
      prepared = await prepareAnimation(
        { config: { maxAnimationFrames: 1000 } as never, catalog: null as never },
        { ...body, type: 'animation', ...(initFile ? { init_image: initFile } : {}) },
        pipe.info,
        async (file) => decodeInputImage(await readFile(file), { maxPixels: MAX_INPUT_PIXELS }),
      );
    } catch (err) {
      if (err instanceof HttpProblem) {
        const fields = (err.errors ?? []).map((e) => `${e.path}: ${e.message}`).join('; ');
        throw new AnimationUsageError(`${settingsFile}: ${fields || err.message}`);
      }
      throw err;
    }
    const { params, init } = prepared;
    const a = params.animation!;
    const fitted = init ? await fitImage(init, params.width, params.height, params.resize_mode ?? 'resize') : undefined;
    const { frames } = await renderAnimation(a, params.seed, fitted, async (f) => {
      const bar = progressBar(`frame ${f.index + 1}/${f.frames}`);
      const result = await pipe.generate({
        mode: f.initImage ? 'img2img' : 'txt2img', prompt: f.prompt, negativePrompt: f.negativePrompt, promptSyntax: 'a1111',
        width: params.width, height: params.height, steps: params.steps, guidanceScale: f.guidanceScale, seed: f.seed, numImages: 1,
        ...(params.scheduler !== 'default' ? { scheduler: params.scheduler } : {}),
        ...(f.initImage ? { initImage: f.initImage, strength: f.strength } : {}),
        ...(f.blend ? { promptBlend: f.blend } : {}),
      }, { onStep: bar });
      return result.images[0]!;
    });
    const out = resolve(cwd, values.out);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, await encodeAnimation(frames, a.fps, a.output_format));
    process.stderr.write(`wrote ${out} (${frames.length} frames at ${a.fps} fps, ${a.output_format}, seed ${params.seed})\n`);
  } finally {
    await pipe.release();
  }
}
