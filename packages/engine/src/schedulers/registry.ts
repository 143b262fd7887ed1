// Stable user-facing scheduler names → diffusers classes + config overrides. A scheduler is built
// the way diffusers swaps one in: `Cls.from_config(pipe.scheduler.config, **overrides)`, i.e. the
// model's full scheduler_config.json, the class's defaults for keys it lacks, then the overrides.
import type { SchedulerConfig } from './config.ts';
import type { Scheduler } from './types.ts';
import { DDIMScheduler } from './ddim.ts';
import { PNDMScheduler } from './pndm.ts';
import { DDPMScheduler } from './ddpm.ts';
import { LCMScheduler } from './lcm.ts';
import { DPMSolverMultistepScheduler } from './dpm-multistep.ts';
import { DPMSolverSinglestepScheduler } from './dpm-singlestep.ts';
import { UniPCMultistepScheduler } from './unipc.ts';
import { DEISMultistepScheduler } from './deis.ts';
import { EulerDiscreteScheduler } from './euler.ts';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral.ts';
import { LMSDiscreteScheduler } from './lms.ts';
import { HeunDiscreteScheduler } from './heun.ts';
import { KDPM2DiscreteScheduler } from './kdpm2.ts';

type SchedulerClass = new (config: Partial<SchedulerConfig>) => Scheduler;

/** The diffusers classes implemented here, by diffusers class name. */
export const SCHEDULER_CLASSES: Readonly<Record<string, SchedulerClass>> = {
  DDIMScheduler,
  PNDMScheduler,
  DDPMScheduler,
  LCMScheduler,
  DPMSolverMultistepScheduler,
  DPMSolverSinglestepScheduler,
  UniPCMultistepScheduler,
  DEISMultistepScheduler,
  EulerDiscreteScheduler,
  EulerAncestralDiscreteScheduler,
  LMSDiscreteScheduler,
  HeunDiscreteScheduler,
  KDPM2DiscreteScheduler,
};

interface Entry { className: string; overrides: Record<string, unknown> }

const DPMPP_2M = { algorithm_type: 'dpmsolver++', solver_order: 2 };
const DPMPP_2M_SDE = { algorithm_type: 'sde-dpmsolver++', solver_order: 2 };
const KARRAS = { use_karras_sigmas: true };

const ENTRIES: Readonly<Record<string, Entry>> = {
  ddim: { className: 'DDIMScheduler', overrides: {} },
  pndm: { className: 'PNDMScheduler', overrides: {} },
  ddpm: { className: 'DDPMScheduler', overrides: {} },
  euler: { className: 'EulerDiscreteScheduler', overrides: {} },
  euler_karras: { className: 'EulerDiscreteScheduler', overrides: KARRAS },
  euler_a: { className: 'EulerAncestralDiscreteScheduler', overrides: {} },
  lms: { className: 'LMSDiscreteScheduler', overrides: {} },
  lms_karras: { className: 'LMSDiscreteScheduler', overrides: KARRAS },
  heun: { className: 'HeunDiscreteScheduler', overrides: {} },
  kdpm2: { className: 'KDPM2DiscreteScheduler', overrides: {} },
  dpmpp_2m: { className: 'DPMSolverMultistepScheduler', overrides: DPMPP_2M },
  dpmpp_2m_karras: { className: 'DPMSolverMultistepScheduler', overrides: { ...DPMPP_2M, ...KARRAS } },
  dpmpp_2m_sde: { className: 'DPMSolverMultistepScheduler', overrides: DPMPP_2M_SDE },
  dpmpp_2m_sde_karras: { className: 'DPMSolverMultistepScheduler', overrides: { ...DPMPP_2M_SDE, ...KARRAS } },
  // DPM-Solver++ single-step (order 2, "DPM++ 2S"). k-diffusion's / A1111's "DPM++ SDE"
  // (DPMSolverSDEScheduler, Brownian-tree noise) is a different sampler and is not implemented.
  dpm_single: { className: 'DPMSolverSinglestepScheduler', overrides: {} },
  unipc: { className: 'UniPCMultistepScheduler', overrides: {} },
  deis: { className: 'DEISMultistepScheduler', overrides: {} },
  lcm: { className: 'LCMScheduler', overrides: {} },
};

/** Stable scheduler names users may pass (besides `default` and diffusers class names). */
export const SCHEDULER_NAMES: readonly string[] = Object.freeze(Object.keys(ENTRIES));

/** An unknown scheduler name: the API answers it with a 400 listing `validNames`. */
export class UnknownSchedulerError extends Error {
  readonly schedulerName: string;
  readonly validNames: readonly string[];
  constructor(name: string, validNames: readonly string[] = ['default', ...SCHEDULER_NAMES]) {
    super(`Unknown scheduler "${name}". Valid schedulers: ${validNames.join(', ')}`);
    this.name = 'UnknownSchedulerError';
    this.schedulerName = name;
    this.validNames = validNames;
  }
}

/** Whether `name` would resolve (stable name, `default`, or implemented diffusers class name). */
export function isSchedulerName(name: string | undefined): boolean {
  return resolveEntry(name, undefined) !== undefined;
}

function resolveEntry(name: string | undefined, modelConfig: Partial<SchedulerConfig> | undefined): Entry | undefined {
  const raw = name?.trim();
  if (!raw || raw.toLowerCase() === 'default') {
    const own = modelConfig?._class_name;
    if (modelConfig === undefined) return { className: 'default', overrides: {} };
    return typeof own === 'string' && own in SCHEDULER_CLASSES ? { className: own, overrides: {} } : undefined;
  }
  if (raw in SCHEDULER_CLASSES) return { className: raw, overrides: {} };
  return ENTRIES[raw.toLowerCase()];
}

/**
 * Build the scheduler `nameOrClass` names for a model whose scheduler_config.json is `modelConfig`.
 * `default` / empty → the model's own `_class_name`.
 */
export function createScheduler(nameOrClass: string | undefined, modelConfig: Partial<SchedulerConfig>): Scheduler {
  const entry = resolveEntry(nameOrClass, modelConfig);
  if (!entry) {
    const raw = nameOrClass?.trim();
    if (!raw || raw.toLowerCase() === 'default') {
      throw new Error(`The model's scheduler class "${String(modelConfig._class_name)}" is not supported; choose one of ${SCHEDULER_NAMES.join(', ')}`);
    }
    throw new UnknownSchedulerError(raw);
  }
  const Cls = SCHEDULER_CLASSES[entry.className]!;
  const scheduler = new Cls({ ...modelConfig, ...entry.overrides, _class_name: entry.className });
  const raw = nameOrClass?.trim().toLowerCase();
  if (raw && raw in ENTRIES) (scheduler as { name: string }).name = raw;
  return scheduler;
}
