// promptSyntax through the pipeline: 'plain' truncates at 77 ids as diffusers does; 'a1111'
// (prompt-conditioning.ts) weights and chunks long prompts into 154-token embeddings.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../src/pipelines/stable-diffusion-pipeline.ts';
import type { GenerateRequest } from '../src/pipelines/types.ts';
import { MODELS_DIR } from './support/pipeline-golden.ts';

const pipe = await StableDiffusionPipeline.load(join(MODELS_DIR, 'tiny-sd15'), { warmup: false, intraOpNumThreads: 1 });
after(() => pipe.release());
const long = Array(90).fill('cat').join(' '); // 90 one-token words
const base: GenerateRequest = { mode: 'txt2img', prompt: long, width: 64, height: 64, steps: 2, guidanceScale: 7.5, seed: 4, numImages: 1, scheduler: 'ddim' };

async function embedTokens(req: GenerateRequest): Promise<{ cond: number; uncond: number }> {
  const seen: Record<string, number> = {};
  await pipe.generate(req, { probe: (name, _d, dims) => { seen[name] = dims[1]!; } });
  return { cond: seen.prompt_embeds!, uncond: seen.negative_prompt_embeds! };
}

test('plain truncates to 77 tokens; a1111 encodes two chunks on both sides', async () => {
  assert.deepEqual(await embedTokens({ ...base, promptSyntax: 'plain' }), { cond: 77, uncond: 77 });
  assert.deepEqual(await embedTokens({ ...base, promptSyntax: 'a1111' }), { cond: 154, uncond: 154 });
});

async function promptEmbeds(req: GenerateRequest): Promise<Float32Array> {
  let embeds: Float32Array | undefined;
  await pipe.generate(req, { probe: (name, d) => { if (name === 'prompt_embeds') embeds = d.slice(); } });
  return embeds!;
}

test('a1111 weights change the result; plain reads them literally', async () => {
  const short = { ...base, prompt: 'a castle on a hill' };
  const weighted = { ...base, prompt: 'a (castle:1.5) on a hill' };
  const a = await pipe.generate({ ...short, promptSyntax: 'a1111' });
  const b = await pipe.generate({ ...weighted, promptSyntax: 'a1111' });
  assert.notDeepEqual(a.images[0]!.data, b.images[0]!.data, 'the weight changed the a1111 result');
  const plain = await pipe.generate({ ...short, promptSyntax: 'plain' });
  assert.deepEqual(plain.images[0]!.data, a.images[0]!.data, 'unweighted a1111 prompt = plain prompt');
  // plain encodes "(castle:1.5)" as text: exactly what a1111 gives for the escaped, literal
  // prompt, and neither the weighted nor the bare prompt.
  const plainWeighted = await promptEmbeds({ ...weighted, promptSyntax: 'plain' });
  const literal = await promptEmbeds({ ...base, prompt: 'a \\(castle:1.5\\) on a hill', promptSyntax: 'a1111' });
  assert.deepEqual(plainWeighted, literal, 'plain = a1111 with the parentheses escaped');
  assert.notDeepEqual(plainWeighted, await promptEmbeds({ ...weighted, promptSyntax: 'a1111' }), 'plain applies no weight');
  assert.notDeepEqual(plainWeighted, await promptEmbeds({ ...short, promptSyntax: 'plain' }), 'plain keeps the syntax characters');
});
