/** `npm run generate`: run the engine on one model folder and write PNGs. */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StableDiffusionPipeline, type GenerateRequest } from '@sdsvc/engine';
import { extractInlineNegatives, processPrompt, PromptSyntaxError } from '@sdsvc/prompt';
import { applyOverlay, blurMask, decodeInputImage, decodeMask, defaultSizeFor, encodeImage, fitImage, formatParameters } from '@sdsvc/images';
import { outputPath, parseCliArgs, UsageError, USAGE, type CliOptions } from './cli-args.ts';
import { progressBar } from './progress-bar.ts';
import { pipelineWithLoras, tagLoras } from './cli-loras.ts';

const MAX_INPUT_PIXELS = 4096 * 4096;

function processPromptOrUsage(prompt: string, negativePrompt: string | undefined) {
  let processed;
  try {
    processed = processPrompt({ prompt, negativePrompt });
  } catch (err) {
    if (err instanceof PromptSyntaxError) throw new UsageError(err.message);
    throw err;
  }
  if (processed.referenceImage) throw new UsageError('{image} tags need a reference image, which the CLI does not take (use --init-image)');
  for (const w of processed.warnings) process.stderr.write(`warning: ${w.message}\n`);
  return processed;
}

async function main(opts: CliOptions): Promise<void> {
  const pipe = await StableDiffusionPipeline.load(opts.model, { warmup: false });
  const info = pipe.info;
  const mode = opts.maskImage ? 'inpaint' : opts.initImage ? 'img2img' : 'txt2img';

  let width = opts.width;
  let height = opts.height;
  let initImage;
  let maskImage;
  let overlayMask;
  if (opts.initImage) {
    const decoded = await decodeInputImage(await readFile(opts.initImage), { maxPixels: MAX_INPUT_PIXELS });
    const size = defaultSizeFor(decoded, info.sizeStep);
    width ??= size.width;
    height ??= size.height;
    initImage = await fitImage(decoded, width, height, opts.resizeMode);
    if (opts.maskImage) {
      const mask = await decodeMask(await readFile(opts.maskImage), {
        width, height, resizeMode: opts.resizeMode, invert: opts.invertMask, maxPixels: MAX_INPUT_PIXELS,
        imageSize: { width: decoded.width, height: decoded.height },
      });
      maskImage = await blurMask(mask, opts.maskBlur);
      overlayMask = maskImage;
    }
  }
  width ??= info.nativeSize;
  height ??= info.nativeSize;

  const request: GenerateRequest = {
    mode, prompt: opts.prompt, promptSyntax: opts.promptSyntax, width, height, steps: opts.steps,
    guidanceScale: opts.guidanceScale, seed: opts.seed, numImages: opts.numImages,
  };
  if (opts.negativePrompt !== undefined) request.negativePrompt = opts.negativePrompt;
  const loras = [...opts.loras];
  if (opts.promptSyntax === 'a1111') {
    // The API's prompt language: inline negatives (-x) join the negative prompt; weights stay for the engine.
    const processed = processPromptOrUsage(opts.prompt, opts.negativePrompt);
    request.prompt = processed.prompt;
    // Still absent when there is no negative at all: SDXL then uses zero negative embeddings.
    if (opts.negativePrompt !== undefined || processed.negativePrompt !== '') request.negativePrompt = processed.negativePrompt;
    loras.push(...tagLoras(processed.loras));
  }
  // SDXL fields, as the API normalises them (prompt_2's inline negatives join negative_prompt_2).
  Object.assign(request, opts.sdxl);
  if (opts.promptSyntax === 'a1111' && opts.sdxl.prompt2 !== undefined) {
    const inline = extractInlineNegatives(opts.sdxl.prompt2);
    request.prompt2 = inline.text.trim();
    if (inline.negatives.length > 0) {
      request.negativePrompt2 = [(opts.sdxl.negativePrompt2 ?? request.negativePrompt ?? '').trim(), ...inline.negatives].filter((x) => x !== '').join(', ');
    }
  }
  if (opts.scheduler) request.scheduler = opts.scheduler;
  if (initImage) {
    request.initImage = initImage;
    // parseCliArgs fills the API's SD default; SDXL models use their pipelines' own (0.3 / 0.9999).
    request.strength = info.sdxl && opts.strengthIsDefault ? pipe.defaultStrength(mode) : opts.strength;
  }
  if (maskImage) request.maskImage = maskImage;

  const merged = await pipelineWithLoras(pipe, loras);
  const result = await merged.runner.generate(request, { onStep: progressBar(`${info.id} ${width}×${height}`) });
  await merged.release();
  await mkdir(dirname(opts.out), { recursive: true });
  for (let i = 0; i < result.images.length; i++) {
    let image = result.images[i]!;
    if (overlayMask && initImage && opts.overlay) image = { ...applyOverlay(image, initImage, overlayMask), seed: image.seed };
    const parameters = formatParameters({
      prompt: request.prompt, negativePrompt: request.negativePrompt || null, steps: opts.steps,
      sampler: opts.scheduler ?? 'default', cfgScale: opts.guidanceScale, seed: image.seed, width, height,
      model: info.id, denoisingStrength: request.strength ?? null, maskBlur: maskImage ? opts.maskBlur : null,
    });
    const file = outputPath(opts.out, i, result.images.length);
    await writeFile(file, await encodeImage(image, { format: 'png', parameters, provenance: { creatorTool: 'sdsvc', model: info.id } }));
    process.stderr.write(`wrote ${file} (seed ${image.seed})\n`);
  }
  await pipe.release();
}

try {
  const argv = process.argv.slice(2);
  if (argv.includes('--detect-watermark')) {
    const { detectWatermarkCommand } = await import('./detect-watermark.ts');
    process.exitCode = await detectWatermarkCommand(argv);
  } else if (argv.includes('--animation')) {
    const { animateCommand, AnimationUsageError } = await import('./animate.ts');
    await animateCommand(argv).catch((err: unknown) => { throw err instanceof AnimationUsageError ? new UsageError(err.message) : err; });
  } else {
    await main(parseCliArgs(argv));
  }
} catch (err) {
  if (err instanceof UsageError) {
    if (err.message) process.stderr.write(`error: ${err.message}\n`);
    process.stderr.write(`${USAGE}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
