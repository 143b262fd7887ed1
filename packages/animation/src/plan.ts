// Animation settings → what each frame runs with: prompt (or the blend of two keyframed prompts),
// seed, strength, guidance, motion and noise. Pure: the worker runs the plan frame by frame.
import { evaluateSchedule, ScheduleError } from './schedule.ts';
import type { Motion } from './motion.ts';

export type SeedBehavior = 'iter' | 'fixed' | 'random' | 'schedule';

export interface AnimationSettings {
  frames: number;
  seed: number;
  /** A single prompt, or prompts keyed by frame ("0", "48", …). */
  prompt?: string;
  prompts?: Record<string, string>;
  promptInterpolation?: boolean;
  guidanceScale: number;
  seedBehavior?: SeedBehavior;
  seedSchedule?: string;
  zoom?: string;
  angle?: string;
  translationX?: string;
  translationY?: string;
  strength?: string;
  guidanceSchedule?: string;
  noise?: string;
}

export const ANIMATION_DEFAULTS = { zoom: '0:(1.0)', angle: '0:(0)', translation: '0:(0)', strength: '0:(0.65)', noise: '0:(0.02)' } as const;

export interface PromptAtFrame {
  /** The keyframe prompt in force. */
  prompt: string;
  /** With prompt_interpolation between two keyframes: the next prompt and its weight (0…1). */
  blend?: { prompt: string; weight: number };
}

export interface FramePlan {
  index: number;
  prompt: PromptAtFrame;
  seed: number;
  /** img2img strength of this frame (frame 0 without an init image is txt2img and ignores it). */
  strength: number;
  guidanceScale: number;
  motion: Motion;
  noise: number;
}

/** Which schedule field failed, for a 400 naming it. */
export class PlanError extends Error {
  override name = 'PlanError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

function schedule(field: string, src: string, frames: number): number[] {
  try {
    return evaluateSchedule(src, frames);
  } catch (err) {
    if (err instanceof ScheduleError) throw new PlanError(field, err.message);
    throw err;
  }
}

function keyedPrompts(s: AnimationSettings): Array<{ frame: number; prompt: string }> {
  if (s.prompts) {
    const keyed = Object.entries(s.prompts).map(([k, prompt]) => {
      if (!/^\d+$/.test(k)) throw new PlanError(`prompts.${k}`, 'keys are frame numbers');
      return { frame: Number(k), prompt };
    }).sort((a, b) => a.frame - b.frame);
    if (keyed.length === 0 || keyed[0]!.frame !== 0) throw new PlanError('prompts', 'needs a prompt for frame 0');
    return keyed;
  }
  if (s.prompt === undefined) throw new PlanError('prompt', 'give prompt or prompts');
  return [{ frame: 0, prompt: s.prompt }];
}

function promptAt(keyed: Array<{ frame: number; prompt: string }>, frame: number, interpolate: boolean): PromptAtFrame {
  let i = 0;
  while (i + 1 < keyed.length && keyed[i + 1]!.frame <= frame) i++;
  const cur = keyed[i]!;
  const next = keyed[i + 1];
  if (!interpolate || !next || frame === cur.frame) return { prompt: cur.prompt };
  return { prompt: cur.prompt, blend: { prompt: next.prompt, weight: (frame - cur.frame) / (next.frame - cur.frame) } };
}

/** Deterministic per-frame seeds for `random`: the job's seed picks them, so a rerun matches. */
function randomSeeds(seed: number, frames: number): number[] {
  let a = (seed % 4294967296) >>> 0;
  return Array.from({ length: frames }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  });
}

export function planAnimation(s: AnimationSettings): FramePlan[] {
  const n = s.frames;
  const keyed = keyedPrompts(s);
  const zoom = schedule('zoom', s.zoom ?? ANIMATION_DEFAULTS.zoom, n);
  const angle = schedule('angle', s.angle ?? ANIMATION_DEFAULTS.angle, n);
  const tx = schedule('translation_x', s.translationX ?? ANIMATION_DEFAULTS.translation, n);
  const ty = schedule('translation_y', s.translationY ?? ANIMATION_DEFAULTS.translation, n);
  const strength = schedule('strength', s.strength ?? ANIMATION_DEFAULTS.strength, n);
  const guidance = s.guidanceSchedule ? schedule('guidance_scale_schedule', s.guidanceSchedule, n) : new Array<number>(n).fill(s.guidanceScale);
  const noise = schedule('noise', s.noise ?? ANIMATION_DEFAULTS.noise, n);
  const behavior = s.seedBehavior ?? 'iter';
  if (behavior === 'schedule' && !s.seedSchedule) throw new PlanError('seed_schedule', 'seed_behavior "schedule" needs seed_schedule');
  const seedSchedule = behavior === 'schedule' ? schedule('seed_schedule', s.seedSchedule!, n) : null;
  const random = behavior === 'random' ? randomSeeds(s.seed, n) : null;

  return Array.from({ length: n }, (_, i) => {
    const z = zoom[i]!;
    if (!(z > 0) || z > 10) throw new PlanError('zoom', `frame ${i}: zoom ${z} is outside (0, 10]`);
    const st = strength[i]!;
    if (!(st > 0) || st > 1) throw new PlanError('strength', `frame ${i}: strength ${st} is outside (0, 1]`);
    const g = guidance[i]!;
    if (g < 0 || g > 50) throw new PlanError('guidance_scale_schedule', `frame ${i}: guidance ${g} is outside [0, 50]`);
    const nz = noise[i]!;
    if (nz < 0 || nz > 1) throw new PlanError('noise', `frame ${i}: noise ${nz} is outside [0, 1]`);
    const seed = behavior === 'fixed' ? s.seed
      : behavior === 'random' ? random![i]!
      : behavior === 'schedule' ? Math.round(seedSchedule![i]!)
      : s.seed + i;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new PlanError('seed_schedule', `frame ${i}: seed ${seed} is not a whole number ≥ 0`);
    return {
      index: i,
      prompt: promptAt(keyed, i, s.promptInterpolation ?? false),
      seed,
      strength: st,
      guidanceScale: g,
      motion: { zoom: z, angle: angle[i]!, translationX: tx[i]!, translationY: ty[i]! },
      noise: nz,
    };
  });
}
