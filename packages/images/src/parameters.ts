// The A1111 "parameters" text (infotext), so that tools which read A1111 PNGs understand ours:
//   <prompt as written>
//   Negative prompt: <negative>            (line omitted when empty)
//   Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model: x, Denoising strength: 0.75, ...
// Values containing `,`, `:` or a newline are JSON-quoted, as A1111's infotext `quote` does.

export interface GenerationParameters {
  prompt: string;
  negativePrompt?: string | null;
  steps: number;
  /** Our scheduler name (e.g. `euler_a`); written with A1111's sampler name when there is one. */
  sampler: string;
  cfgScale: number;
  seed: number;
  width: number;
  height: number;
  model?: string | null;
  modelHash?: string | null;
  denoisingStrength?: number | null;
  maskBlur?: number | null;
  /** More `Key: value` pairs, written in insertion order after the ones above (null/undefined skipped). */
  extra?: Record<string, string | number | boolean | null | undefined>;
}

// Our scheduler names → A1111's sampler name and, where it has one, its schedule type.
const A1111_SAMPLERS: Record<string, [sampler: string, schedule?: string]> = {
  ddim: ['DDIM'],
  ddpm: ['DDPM'],
  pndm: ['PLMS'],
  euler: ['Euler'],
  euler_karras: ['Euler', 'Karras'],
  euler_a: ['Euler a'],
  lms: ['LMS'],
  lms_karras: ['LMS', 'Karras'],
  heun: ['Heun'],
  kdpm2: ['DPM2'],
  dpmpp_2m: ['DPM++ 2M'],
  dpmpp_2m_karras: ['DPM++ 2M', 'Karras'],
  dpmpp_2m_sde: ['DPM++ 2M SDE'],
  dpmpp_2m_sde_karras: ['DPM++ 2M SDE', 'Karras'],
  // DPM-Solver++ single-step, order 2: not A1111's "DPM++ SDE" (Brownian-tree noise), nor its
  // ancestral "DPM++ 2S a".
  dpm_single: ['DPM++ 2S'],
  unipc: ['UniPC'],
  lcm: ['LCM'],
  deis: ['DEIS'],
};

function quote(value: string): string {
  return /[,:\n]/.test(value) ? JSON.stringify(value) : value;
}

export function formatParameters(p: GenerationParameters): string {
  const [sampler, schedule] = A1111_SAMPLERS[p.sampler] ?? [p.sampler];
  const fields: Array<[string, string | number | boolean | null | undefined]> = [
    ['Steps', p.steps],
    ['Sampler', sampler],
    ['Schedule type', schedule],
    ['CFG scale', p.cfgScale],
    ['Seed', p.seed],
    ['Size', `${p.width}x${p.height}`],
    ['Model hash', p.modelHash],
    ['Model', p.model],
    ['Denoising strength', p.denoisingStrength],
    ['Mask blur', p.maskBlur],
    ...Object.entries(p.extra ?? {}),
  ];
  const line = fields
    .filter((f): f is [string, string | number | boolean] => f[1] !== null && f[1] !== undefined)
    .map(([k, v]) => `${k}: ${quote(String(v))}`)
    .join(', ');
  const negative = p.negativePrompt ? `\nNegative prompt: ${p.negativePrompt}` : '';
  return `${p.prompt}${negative}\n${line}`;
}
