// A1111 sampler names and schedule types → our scheduler names (packages/engine registry). One
// table drives GET /sdapi/v1/samplers, /schedulers, the request mapping and the README table.
import { HttpProblem } from '@sdsvc/contracts';

export interface A1111Sampler {
  /** A1111's name (GET /sdapi/v1/samplers `name`). */
  name: string;
  /** A1111's k-diffusion aliases (matched case-insensitively, like the name). */
  aliases: string[];
  /** Our scheduler for the schedule type "Automatic" (A1111's per-sampler default where we have it). */
  automatic: string;
  /** Our scheduler with Karras sigmas, when we have that variant. */
  karras?: string;
}

export const A1111_SAMPLERS: readonly A1111Sampler[] = [
  // A1111 ≥ 1.9 runs DPM++ 2M with Karras sigmas when the schedule type is Automatic.
  { name: 'DPM++ 2M', aliases: ['k_dpmpp_2m'], automatic: 'dpmpp_2m_karras', karras: 'dpmpp_2m_karras' },
  { name: 'DPM++ 2M SDE', aliases: ['k_dpmpp_2m_sde'], automatic: 'dpmpp_2m_sde', karras: 'dpmpp_2m_sde_karras' },
  // DPM-Solver++ single-step, order 2, without ancestral noise: the closest we have to "DPM++ 2S a".
  { name: 'DPM++ 2S a', aliases: ['k_dpmpp_2s_a', 'DPM++ 2S'], automatic: 'dpm_single' },
  { name: 'Euler a', aliases: ['k_euler_a', 'k_euler_ancestral'], automatic: 'euler_a' },
  { name: 'Euler', aliases: ['k_euler'], automatic: 'euler', karras: 'euler_karras' },
  { name: 'LMS', aliases: ['k_lms'], automatic: 'lms', karras: 'lms_karras' },
  { name: 'Heun', aliases: ['k_heun'], automatic: 'heun' },
  { name: 'DPM2', aliases: ['k_dpm_2'], automatic: 'kdpm2' },
  { name: 'DDIM', aliases: [], automatic: 'ddim' },
  { name: 'PLMS', aliases: [], automatic: 'pndm' },
  { name: 'UniPC', aliases: [], automatic: 'unipc' },
  { name: 'LCM', aliases: [], automatic: 'lcm' },
  { name: 'DDPM', aliases: [], automatic: 'ddpm' },
  { name: 'DEIS', aliases: [], automatic: 'deis' },
];

/** Schedule types we implement (GET /sdapi/v1/schedulers). */
export const A1111_SCHEDULES = [
  { name: 'automatic', label: 'Automatic', aliases: null, default_rho: -1, need_inner_model: false },
  { name: 'karras', label: 'Karras', aliases: null, default_rho: 7, need_inner_model: false },
] as const;

/** Every schedule type A1111 knows, as a name suffix ("DPM++ 2M Karras") or the scheduler field. */
const A1111_SCHEDULE_LABELS = ['Automatic', 'Uniform', 'Karras', 'Exponential', 'Polyexponential', 'SGM Uniform', 'KL Optimal',
  'Align Your Steps', 'Simple', 'Normal', 'DDIM', 'Beta', 'Align Your Steps GITS', 'Align Your Steps 11', 'Align Your Steps 32'];

/** The sampler used when a request names none (A1111's default). */
export const DEFAULT_SAMPLER = 'DPM++ 2M';

export interface ResolvedSampler {
  /** Our scheduler name for the job. */
  scheduler: string;
  /** The A1111 sampler name and schedule type that were applied. */
  samplerName: string;
  schedule: 'Automatic' | 'Karras';
}

function findSampler(name: string): A1111Sampler | undefined {
  const lower = name.trim().toLowerCase();
  return A1111_SAMPLERS.find((s) => s.name.toLowerCase() === lower || s.aliases.some((a) => a.toLowerCase() === lower));
}

/**
 * sampler_name (or legacy sampler_index) + scheduler → our scheduler. A combined name such as
 * "DPM++ 2M Karras" carries its schedule type. A schedule type we lack (or one we lack for that
 * sampler) falls back to Automatic, as A1111 does for names it does not know; a sampler we lack
 * is a 400 listing ours.
 */
export function resolveSampler(samplerName: string | undefined, scheduler: string | undefined): ResolvedSampler {
  let name = (samplerName ?? '').trim() || DEFAULT_SAMPLER;
  let schedule = (scheduler ?? '').trim();
  let sampler = findSampler(name);
  if (!sampler) {
    for (const label of A1111_SCHEDULE_LABELS) {
      if (name.toLowerCase().endsWith(` ${label.toLowerCase()}`)) {
        const base = findSampler(name.slice(0, -(label.length + 1)));
        if (base) { sampler = base; schedule = label; name = base.name; break; }
      }
    }
  }
  if (!sampler) {
    throw new HttpProblem(400, 'unknown_scheduler', `Sampler not found: "${name}". Available samplers: ${A1111_SAMPLERS.map((s) => s.name).join(', ')} `
      + '(schedule types Automatic and Karras, also as "<sampler> Karras")');
  }
  if (schedule.toLowerCase() === 'karras' && sampler.karras) return { scheduler: sampler.karras, samplerName: sampler.name, schedule: 'Karras' };
  return { scheduler: sampler.automatic, samplerName: sampler.name, schedule: 'Automatic' };
}
