// The diffusers goldens through the worker's path: job params → buildGenerateRequest (the A1111
// prompt language the service always uses) → EngineHost (the engine thread). A prompt without
// A1111 syntax must give the diffusers image there too, so the service's numbers are the engine's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobParams, JobType } from '@sdsvc/contracts';
import { EngineHost } from '@sdsvc/engine';
import { buildGenerateRequest } from '../src/generate-request.ts';
import type { PreparedInputs } from '../src/job-inputs.ts';
import { loadCase, maxAbsDiff, MODELS_DIR, readPng, type PipelineCase } from '../../../packages/engine/test/support/pipeline-golden.ts';
import { IMAGE_TOLERANCE } from '../../../packages/engine/test/support/parity-tolerances.ts';

/** Plain prompts (no weights, brackets, escapes or BREAK; one 75-token chunk): A1111 = diffusers. */
const CASES = [
  'txt2img_sd15_pndm', 'txt2img_sd15_dpmpp2m_128x96', 'txt2img_sd15_euler_nocfg', 'txt2img_sd15_eulera_2imgs',
  'txt2img_sd2v_euler_neg', 'img2img_sd15_dpmpp2m_128x96', 'inpaint9_ddim_s08',
];

let host: EngineHost;
before(async () => { host = await EngineHost.start({ modelsDir: MODELS_DIR, intraOpNumThreads: 1, warmup: false }); });
after(async () => { await host?.close(); });

/** The job params the API would store for the golden's inputs. */
function paramsFor(c: PipelineCase): JobParams {
  const i = c.inputs;
  return {
    prompt: i.prompt, prompt_raw: i.prompt, negative_prompt: i.negative_prompt ?? '',
    weights: { prompt: [{ text: i.prompt, weight: 1 }], negative_prompt: [] },
    width: i.width, height: i.height, steps: i.num_inference_steps, guidance_scale: i.guidance_scale,
    scheduler: c.scheduler.name, seed: i.generator.kind === 'single' ? i.generator.seed : i.generator.seeds[0]!,
    num_images: i.num_images_per_prompt, output_format: 'png',
    ...(i.strength !== undefined ? { strength: i.strength } : {}),
  };
}

for (const id of CASES) {
  test(`${id}: worker request (A1111 syntax) on the engine thread gives the diffusers image`, async () => {
    const c = loadCase(id);
    assert.doesNotMatch(c.inputs.prompt, /[()[\]\\:]|BREAK/, 'a plain prompt');
    const inputs: PreparedInputs = {};
    if (c.inputs.image) inputs.init = await readPng(c, c.inputs.image.file, 3);
    if (c.inputs.mask_image) inputs.mask = await readPng(c, c.inputs.mask_image.file, 1);
    const request = buildGenerateRequest(c.kind as JobType, paramsFor(c), inputs);
    assert.equal(request.promptSyntax, 'a1111');
    const result = await host.generate(c.model, request);
    assert.equal(result.images.length, c.inputs.num_images_per_prompt);
    for (let b = 0; b < result.images.length; b++) {
      const golden = await readPng(c, c.image_png[b]!, 3);
      const d = maxAbsDiff(result.images[b]!.data, golden.data);
      assert.ok(d <= IMAGE_TOLERANCE, `image ${b} differs from diffusers by ${d}/255`);
    }
  });
}
