// Loader for test/fixtures/parity/schedulers (index.json + *.bin trajectories) and a replica of
// diffusers' dummy scheduler loop (tests/schedulers/test_schedulers.py), shared by scheduler tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scheduler } from '../../src/schedulers/types.ts';
import type { Latents } from '../../src/tensor.ts';
import type { SchedulerConfig } from '../../src/schedulers/config.ts';
import type { NoiseGenerator } from '../../src/random/noise-generator.ts';

export const SCHEDULER_FIXTURES_DIR = join(import.meta.dirname, '../../../../test/fixtures/parity/schedulers');

export interface Case {
  id: string;
  variant: string;
  /** diffusers class name, e.g. "DDIMScheduler". */
  scheduler: string;
  configOverrides: Record<string, unknown>;
  /** Full effective config at construction ("inf"/"-inf"/"nan" strings turned into numbers). */
  config: SchedulerConfig;
  configChangedBySetTimesteps: Record<string, unknown> | null;
  numInferenceSteps: number;
  order: number;
  timesteps: number[];
  timestepsDtype: string;
  sigmas: number[] | null;
  initNoiseSigma: number;
  stepNoiseDraws: { count: number; shapes: number[][] };
  /** prev_sample after every step, [len(timesteps), 1, 4, 8, 8] flattened. */
  trajectory: Float32Array;
  trajectoryShape: number[];
}

interface RawDescriptor { file: string; dtype: string; shape: number[] }

const NON_FINITE: Record<string, number> = { inf: Infinity, '-inf': -Infinity, nan: NaN };

function reviveNonFinite(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) out[k] = typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v;
  return out;
}

function readF32(desc: RawDescriptor): Float32Array {
  if (desc.dtype !== 'float32') throw new Error(`unexpected dtype ${desc.dtype} in ${desc.file}`);
  const buf = readFileSync(join(SCHEDULER_FIXTURES_DIR, desc.file));
  // Copy into an aligned buffer (Buffer slices may be unaligned); files are little-endian like x86/arm.
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  const expected = desc.shape.reduce((a, b) => a * b, 1);
  if (out.length !== expected) throw new Error(`${desc.file}: ${out.length} values, shape says ${expected}`);
  return out;
}

let cache: { base: SchedulerConfig; cases: Case[] } | undefined;

function load(): { base: SchedulerConfig; cases: Case[] } {
  if (cache) return cache;
  const index = JSON.parse(readFileSync(join(SCHEDULER_FIXTURES_DIR, 'index.json'), 'utf8'));
  const cases: Case[] = index.cases.map((c: any): Case => ({
    id: c.id,
    variant: c.variant,
    scheduler: c.scheduler,
    configOverrides: c.config_overrides ?? {},
    config: reviveNonFinite(c.config) as SchedulerConfig,
    configChangedBySetTimesteps: c.config_changed_by_set_timesteps ?? null,
    numInferenceSteps: c.num_inference_steps,
    order: c.order,
    timesteps: c.timesteps,
    timestepsDtype: c.timesteps_dtype,
    sigmas: c.sigmas ?? null,
    initNoiseSigma: c.init_noise_sigma,
    stepNoiseDraws: c.step_noise_draws,
    trajectory: readF32(c.trajectory),
    trajectoryShape: c.trajectory.shape,
  }));
  cache = { base: index.base_config as SchedulerConfig, cases };
  return cache;
}

/** Every case of schedulers/index.json, trajectories loaded. */
export function loadSchedulerCases(): Case[] {
  return load().cases;
}

/** The SD 1.5 scheduler_config.json every case starts from (`_class_name` PNDMScheduler). */
export function schedulerBaseConfig(): SchedulerConfig {
  return { ...load().base };
}

/** Wraps a generator and records the shape of every randn/rand draw (for step_noise_draws). */
export class CountingGenerator implements NoiseGenerator {
  readonly inner: NoiseGenerator;
  readonly draws: number[][] = [];
  constructor(inner: NoiseGenerator) { this.inner = inner; }
  randn(shape: readonly number[]): Float32Array { this.draws.push([...shape]); return this.inner.randn(shape); }
  rand(shape: readonly number[]): Float32Array { this.draws.push([...shape]); return this.inner.rand(shape); }
}

/** dummy_sample_deter: arange(256).reshape(4,8,8,1)/256 permuted to [1,4,8,8], i.e. element i = i/256. */
export function dummySampleDeter(): Float32Array {
  const out = new Float32Array(256);
  for (let i = 0; i < 256; i++) out[i] = i / 256;
  return out;
}

/**
 * diffusers' dummy loop: setTimesteps(n); sample = deter * initNoiseSigma; for each t:
 * sample = scaleModelInput(sample, t); out = sample * t / (t + 1) (float32); sample = step(out, t, sample).
 * Returns the trajectory (prev_sample after every step), [timesteps.length, 1, 4, 8, 8] flattened.
 */
export function runDummyLoop(scheduler: Scheduler, c: Case, generator?: NoiseGenerator): Float32Array {
  const f = Math.fround;
  scheduler.setTimesteps(c.numInferenceSteps);
  const dims = [1, 4, 8, 8] as const;
  const n = 256;
  const sigma = f(scheduler.initNoiseSigma);
  let sample: Latents = { data: dummySampleDeter().map((v) => f(v * sigma)), dims };
  const timesteps = Array.from(scheduler.timesteps);
  const trajectory = new Float32Array(timesteps.length * n);
  timesteps.forEach((t, i) => {
    sample = { data: scheduler.scaleModelInput(sample, t).data, dims };
    const tf = f(t), t1 = f(tf + 1);
    const out = new Float32Array(n);
    for (let j = 0; j < n; j++) out[j] = f(f(sample.data[j]! * tf) / t1);
    const res = scheduler.step({ data: out, dims }, t, sample, generator ? { generator } : {});
    sample = { data: res.prevSample.data, dims };
    trajectory.set(sample.data, i * n);
  });
  return trajectory;
}

/** max |a - b| / max |b|: error relative to the magnitude of the whole reference trajectory. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let maxErr = 0, maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    if (!(e <= maxErr)) maxErr = e; // NaN propagates as failure
    const r = Math.abs(b[i]!);
    if (r > maxRef) maxRef = r;
  }
  return maxRef === 0 ? maxErr : maxErr / maxRef;
}
