// The frame loop, independent of any engine: frame 0 from nothing (or the init image), each later
// frame from the previous one after motion, colour coherence and noise. `generate` runs one frame.
import { matchColorsLab } from './color-coherence.ts';
import type { Frame } from './frame.ts';
import { warpFrame, type Border } from './motion.ts';
import { addNoise } from './noise.ts';
import { planAnimation, type FramePlan, type SeedBehavior } from './plan.ts';

/** The animation settings as a job stores them (params.animation, snake_case as in the API). */
export interface AnimationSpec {
  frames: number;
  fps: number;
  prompts: Record<string, string>;
  negative_prompts: Record<string, string>;
  prompt_interpolation: boolean;
  seed_behavior: SeedBehavior;
  seed_schedule?: string;
  zoom: string;
  angle: string;
  translation_x: string;
  translation_y: string;
  strength: string;
  guidance_scale: string;
  noise: string;
  border: Border;
  color_coherence: 'none' | 'lab';
}

export interface FrameRequest {
  index: number;
  frames: number;
  /** txt2img for frame 0 without an init image, else img2img of `initImage`. */
  initImage?: Frame;
  strength: number;
  prompt: string;
  negativePrompt: string;
  /** Prompt interpolation: the next keyframe's prompt and its weight. */
  blend?: { prompt: string; negativePrompt?: string; weight: number };
  seed: number;
  guidanceScale: number;
}

export function planOf(spec: AnimationSpec, seed: number): FramePlan[] {
  return planAnimation({
    frames: spec.frames, seed, prompts: spec.prompts, promptInterpolation: spec.prompt_interpolation, guidanceScale: 7.5,
    guidanceSchedule: spec.guidance_scale, seedBehavior: spec.seed_behavior, seedSchedule: spec.seed_schedule,
    zoom: spec.zoom, angle: spec.angle, translationX: spec.translation_x, translationY: spec.translation_y, strength: spec.strength, noise: spec.noise,
  });
}

/** The keyframe (by frame number) in force at `frame`. */
export function keyframeAt(spec: Pick<AnimationSpec, 'prompts'>, frame: number): number {
  let k = 0;
  for (const key of Object.keys(spec.prompts).map(Number)) if (key <= frame && key >= k) k = key;
  return k;
}

export async function renderAnimation(
  spec: AnimationSpec,
  seed: number,
  init: Frame | undefined,
  generate: (req: FrameRequest) => Promise<Frame>,
  signal?: AbortSignal,
): Promise<{ frames: Frame[]; plan: FramePlan[] }> {
  const plan = planOf(spec, seed);
  const keys = Object.keys(spec.prompts).map(Number).sort((a, b) => a - b);
  const frames: Frame[] = [];
  for (const f of plan) {
    signal?.throwIfAborted();
    const key = keyframeAt(spec, f.index);
    let source = f.index === 0 ? init : undefined;
    if (f.index > 0) {
      let prev = warpFrame(frames[f.index - 1]!, f.motion, spec.border);
      if (spec.color_coherence === 'lab') prev = matchColorsLab(prev, frames[0]!);
      source = addNoise(prev, f.noise, f.seed);
    }
    const next = keys.find((k) => k > key);
    frames.push(await generate({
      index: f.index, frames: plan.length, strength: f.strength, seed: f.seed, guidanceScale: f.guidanceScale,
      prompt: f.prompt.prompt, negativePrompt: spec.negative_prompts[String(key)] ?? '',
      ...(source ? { initImage: source } : {}),
      ...(f.prompt.blend ? { blend: { ...f.prompt.blend, ...(next !== undefined ? { negativePrompt: spec.negative_prompts[String(next)] } : {}) } } : {}),
    }));
  }
  signal?.throwIfAborted();
  return { frames, plan };
}
