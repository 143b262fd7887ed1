// diffusers' _step_index / _begin_index bookkeeping, shared by every scheduler that indexes its
// schedule by position rather than by timestep value.

/**
 * diffusers' index_for_timestep: the position of `timestep` in the schedule; when it occurs more
 * than once (Heun/KDPM2 repeat timesteps) the second occurrence, so that a run starting mid-way
 * (img2img) does not skip a sigma. A timestep not in the schedule is an error, or, with
 * `lastIfAbsent` (the DPM-Solver family), the last index.
 */
export function indexForTimestep(timestep: number, schedule: Float64Array, lastIfAbsent = false): number {
  let first = -1;
  for (let i = 0; i < schedule.length; i++) {
    if (schedule[i] === timestep) {
      if (first >= 0) return i;
      first = i;
    }
  }
  if (first >= 0) return first;
  if (lastIfAbsent) return schedule.length - 1;
  throw new Error(`timestep ${timestep} is not in the scheduler's timesteps`);
}

/** diffusers' _step_index / _begin_index pair. */
export class StepIndex {
  step: number | null = null;
  begin: number | null = null;
  private readonly lastIfAbsent: boolean;

  constructor(lastIfAbsent = false) {
    this.lastIfAbsent = lastIfAbsent;
  }

  reset(): void { this.step = null; this.begin = null; }

  /** _init_step_index when the first scale_model_input/step call arrives; returns the index. */
  current(timestep: number, schedule: Float64Array): number {
    if (this.step === null) this.step = this.begin ?? indexForTimestep(timestep, schedule, this.lastIfAbsent);
    return this.step;
  }

  /** The schedule index add_noise uses (img2img: begin_index, inpaint blend: the current step). */
  forAddNoise(timestep: number, schedule: Float64Array): number {
    if (this.begin === null) return indexForTimestep(timestep, schedule, this.lastIfAbsent);
    return this.step ?? this.begin;
  }
}
