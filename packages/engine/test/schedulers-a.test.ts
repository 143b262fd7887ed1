// Parity of DDIM, PNDM, DDPM, LCM, DPM-Solver (multistep, single-step), UniPC and DEIS with the
// diffusers 0.27.2 goldens (test/fixtures/parity/schedulers), plus the scheduler registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSchedulerCases, runDummyLoop, maxRelErr, CountingGenerator, schedulerBaseConfig, type Case } from './support/scheduler-golden.ts';
import type { Scheduler } from '../src/schedulers/types.ts';
import type { Latents } from '../src/tensor.ts';
import type { SchedulerConfig } from '../src/schedulers/config.ts';
import type { NoiseGenerator } from '../src/random/noise-generator.ts';
import { DDIMScheduler } from '../src/schedulers/ddim.ts';
import { PNDMScheduler } from '../src/schedulers/pndm.ts';
import { DDPMScheduler } from '../src/schedulers/ddpm.ts';
import { LCMScheduler } from '../src/schedulers/lcm.ts';
import { DPMSolverMultistepScheduler } from '../src/schedulers/dpm-multistep.ts';
import { DPMSolverSinglestepScheduler } from '../src/schedulers/dpm-singlestep.ts';
import { UniPCMultistepScheduler } from '../src/schedulers/unipc.ts';
import { DEISMultistepScheduler } from '../src/schedulers/deis.ts';
import { TorchGenerator } from '../src/random/torch-generator.ts';
import { createScheduler, SCHEDULER_NAMES, SCHEDULER_CLASSES, UnknownSchedulerError } from '../src/schedulers/registry.ts';

type Ctor = new (config: Partial<SchedulerConfig>) => Scheduler;
const CLASSES: Record<string, Ctor> = {
  DDIMScheduler,
  PNDMScheduler,
  DDPMScheduler,
  LCMScheduler,
  DPMSolverMultistepScheduler,
  DPMSolverSinglestepScheduler,
  UniPCMultistepScheduler,
  DEISMultistepScheduler,
};


/** torch.manual_seed(0), once the TorchGenerator exists (another engineer's file). */
/** The seed-0 torch stream the goldens' step noise was drawn from. */
function seed0Generator(): NoiseGenerator {
  return new TorchGenerator(0);
}

const cases = loadSchedulerCases().filter((c) => c.scheduler in CLASSES);

function checkCase(c: Case, generator: NoiseGenerator | undefined): void {
  const scheduler = new CLASSES[c.scheduler]!(c.config);
  const counting = generator ? new CountingGenerator(generator) : undefined;
  const trajectory = runDummyLoop(scheduler, c, counting);
  assert.deepEqual(Array.from(scheduler.timesteps, Math.fround), c.timesteps.map(Math.fround), 'timesteps');
  assert.equal(scheduler.order, c.order, 'order');
  assert.ok(Math.abs(scheduler.initNoiseSigma - c.initNoiseSigma) <= 1e-6 * c.initNoiseSigma, 'init_noise_sigma');
  if (c.sigmas) {
    const sigmas = (scheduler as unknown as { sigmas: Float32Array }).sigmas;
    assert.ok(sigmas, 'scheduler exposes sigmas');
    assert.equal(sigmas.length, c.sigmas.length, 'sigmas length');
    assert.ok(maxRelErr(sigmas, c.sigmas) <= 1e-6, `sigmas ${Array.from(sigmas)} vs ${c.sigmas}`);
  }
  if (counting) {
    assert.equal(counting.draws.length, c.stepNoiseDraws.count, 'noise draws');
    for (const shape of counting.draws) assert.ok(c.stepNoiseDraws.shapes.some((s) => s.join() === shape.join()), `draw shape ${shape}`);
  }
  if (c.configChangedBySetTimesteps) {
    for (const [k, v] of Object.entries(c.configChangedBySetTimesteps)) assert.deepEqual(scheduler.config[k], v, `config.${k} after setTimesteps`);
  }
  const err = maxRelErr(trajectory, c.trajectory);
  assert.ok(err <= 1e-4, `trajectory max rel err ${err}`);
}

for (const c of cases) {
  test(`${c.id}: ${c.scheduler} matches diffusers`, () => {
    checkCase(c, c.stepNoiseDraws.count > 0 ? seed0Generator() : undefined);
  });
}

// ---------------------------------------------------------------------------------------------
// Registry


test('registry: every stable name resolves to a scheduler of the expected class', () => {
  const base = schedulerBaseConfig();
  const expected: Record<string, string> = {
    ddim: 'DDIMScheduler', pndm: 'PNDMScheduler', ddpm: 'DDPMScheduler', euler: 'EulerDiscreteScheduler',
    euler_karras: 'EulerDiscreteScheduler', euler_a: 'EulerAncestralDiscreteScheduler', lms: 'LMSDiscreteScheduler',
    lms_karras: 'LMSDiscreteScheduler', heun: 'HeunDiscreteScheduler', kdpm2: 'KDPM2DiscreteScheduler',
    dpmpp_2m: 'DPMSolverMultistepScheduler', dpmpp_2m_karras: 'DPMSolverMultistepScheduler',
    dpmpp_2m_sde: 'DPMSolverMultistepScheduler', dpmpp_2m_sde_karras: 'DPMSolverMultistepScheduler',
    dpm_single: 'DPMSolverSinglestepScheduler',
    unipc: 'UniPCMultistepScheduler', deis: 'DEISMultistepScheduler', lcm: 'LCMScheduler',
  };
  assert.deepEqual([...SCHEDULER_NAMES].sort(), Object.keys(expected).sort());
  for (const name of SCHEDULER_NAMES) {
    const s = createScheduler(name, base);
    assert.equal(s.className, expected[name], name);
    assert.equal(s.name, name);
    s.setTimesteps(4);
    assert.ok(s.timesteps.length >= 4, `${name} timesteps`);
  }
  assert.equal(createScheduler('dpmpp_2m_karras', base).config.use_karras_sigmas, true);
  assert.equal(createScheduler('dpmpp_2m_sde', base).config.algorithm_type, 'sde-dpmsolver++');
  // The model's full config carries over (SD 1.5: steps_offset 1, no timestep_spacing → class default).
  const dpm = createScheduler('dpmpp_2m', base);
  assert.equal(dpm.config.steps_offset, 1);
  assert.equal(dpm.config.timestep_spacing, 'linspace');
  assert.equal(createScheduler('ddim', base).config.timestep_spacing, 'leading');
});

test('registry: default / absent → the model\'s own class; diffusers class names accepted', () => {
  const base = schedulerBaseConfig(); // _class_name PNDMScheduler
  assert.equal(createScheduler(undefined, base).className, 'PNDMScheduler');
  assert.equal(createScheduler('default', base).className, 'PNDMScheduler');
  assert.equal(createScheduler('', base).className, 'PNDMScheduler');
  assert.equal(createScheduler('default', { ...base, _class_name: 'DDIMScheduler', prediction_type: 'v_prediction' }).config.prediction_type, 'v_prediction');
  for (const cls of Object.keys(SCHEDULER_CLASSES)) assert.equal(createScheduler(cls, base).className, cls);
  assert.throws(() => createScheduler('default', { ...base, _class_name: 'DPMSolverSDEScheduler' }), /not supported/);
});

test('registry: unknown name throws UnknownSchedulerError with the valid names', () => {
  const base = schedulerBaseConfig();
  let caught: unknown;
  try { createScheduler('euler_bogus', base); } catch (e) { caught = e; }
  assert.ok(caught instanceof UnknownSchedulerError);
  assert.equal(caught.name, 'UnknownSchedulerError');
  assert.equal(caught.schedulerName, 'euler_bogus');
  for (const n of SCHEDULER_NAMES) assert.ok(caught.validNames.includes(n));
  assert.ok(caught.validNames.includes('default'));
  assert.match(caught.message, /dpmpp_2m_karras/);
});

test('registry: no `dpmpp_sde` alias (DPM++ SDE is not implemented; single-step DPM-Solver is `dpm_single`)', () => {
  const base = schedulerBaseConfig();
  assert.ok(!SCHEDULER_NAMES.includes('dpmpp_sde'));
  assert.throws(() => createScheduler('dpmpp_sde', base), UnknownSchedulerError);
  assert.equal(createScheduler('dpm_single', base).className, 'DPMSolverSinglestepScheduler');
});

// Registry names that are golden variants must reproduce them from the SD 1.5 base config alone.
for (const c of cases.filter((x) => SCHEDULER_NAMES.includes(x.variant))) {
  test(`registry: ${c.variant} n${c.numInferenceSteps} built from the model config matches the golden`, async () => {
    const s = createScheduler(c.variant, schedulerBaseConfig());
    for (const [k, v] of Object.entries(c.config)) {
      if (k === '_use_default_values' || (c.configChangedBySetTimesteps && k in c.configChangedBySetTimesteps)) continue;
      assert.deepEqual(s.config[k], v, `config.${k}`);
    }
    const generator = c.stepNoiseDraws.count > 0 ? seed0Generator() : undefined;
    const err = maxRelErr(runDummyLoop(s, c, generator), c.trajectory);
    assert.ok(err <= 1e-4, `trajectory max rel err ${err}`);
  });
}

// ---------------------------------------------------------------------------------------------
// img2img: addNoise + setBeginIndex

test('img2img: DPM-Solver++ addNoise/step at a begin index match a full-schedule scheduler', () => {
  const base = schedulerBaseConfig();
  const x0 = new Float32Array(256).map((_, i) => Math.sin(i));
  const noise = new Float32Array(256).map((_, i) => Math.cos(3 * i));
  const dims = [1, 4, 8, 8];
  const a = createScheduler('dpmpp_2m', base);
  a.setTimesteps(10);
  const tStart = 4;
  a.setBeginIndex!(tStart);
  const t = a.timesteps[tStart]!;
  const noisy = a.addNoise({ data: x0, dims }, { data: noise, dims }, t);
  const sigma = (a as unknown as { sigmas: Float32Array }).sigmas[tStart]!;
  const alphaT = 1 / Math.sqrt(sigma * sigma + 1);
  for (let i = 0; i < 256; i++) assert.ok(Math.abs(noisy.data[i]! - (alphaT * x0[i]! + sigma * alphaT * noise[i]!)) < 1e-6);
  // Same numbers as a scheduler that finds its index from the (unique) timestep.
  const b = createScheduler('dpmpp_2m', base);
  b.setTimesteps(10);
  assert.deepEqual(b.addNoise({ data: x0, dims }, { data: noise, dims }, t).data, noisy.data);
  let sa = noisy, sb = noisy;
  for (const tt of a.timesteps.subarray(tStart)) {
    const out = { data: sa.data.map((v) => v * 0.1), dims };
    sa = a.step(out, tt, sa).prevSample;
    sb = b.step(out, tt, sb).prevSample;
  }
  assert.deepEqual(sa.data, sb.data);
});

test('img2img: DDIM/PNDM/DDPM/LCM addNoise uses sqrt(alphas_cumprod[t])', () => {
  const base = schedulerBaseConfig();
  const x0 = new Float32Array(256).fill(1);
  const noise = new Float32Array(256).fill(2);
  const dims = [1, 4, 8, 8];
  for (const name of ['ddim', 'pndm', 'ddpm', 'lcm']) {
    const s = createScheduler(name, base) as Scheduler & { alphasCumprod: Float32Array };
    s.setTimesteps(10);
    const t = s.timesteps[3]!;
    const ac = s.alphasCumprod[t]!;
    const got = s.addNoise({ data: x0, dims }, { data: noise, dims }, t).data[0]!;
    assert.ok(Math.abs(got - (Math.sqrt(ac) + 2 * Math.sqrt(1 - ac))) < 1e-5, name);
  }
});

// ---------------------------------------------------------------------------------------------
// Paths the goldens do not cover: shape of the schedule and finite results.

test('PNDM with PRK warm-up: diffusers\' timestep layout, finite trajectory', () => {
  const s = new PNDMScheduler({ ...schedulerBaseConfig(), skip_prk_steps: false });
  s.setTimesteps(10);
  assert.deepEqual(Array.from(s.timesteps), [
    901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, // PRK: 3 RK steps, 4 calls each
    601, 501, 401, 301, 201, 101, 1, // PLMS
  ]);
  const c = { ...cases[0]!, numInferenceSteps: 10 };
  assert.ok(runDummyLoop(s, c).every(Number.isFinite));
});

test('higher-order and alternative solver variants run to finite samples', () => {
  const variants: Array<[Ctor, Record<string, unknown>]> = [
    [DPMSolverMultistepScheduler, { solver_order: 3 }],
    [DPMSolverMultistepScheduler, { solver_order: 2, solver_type: 'heun' }],
    [DPMSolverMultistepScheduler, { solver_order: 3, algorithm_type: 'dpmsolver', final_sigmas_type: 'sigma_min' }],
    [DPMSolverMultistepScheduler, { solver_order: 2, use_karras_sigmas: true, timestep_spacing: 'trailing' }],
    [DPMSolverSinglestepScheduler, { solver_order: 3 }],
    [DPMSolverSinglestepScheduler, { solver_order: 3, solver_type: 'heun' }],
    [UniPCMultistepScheduler, { solver_order: 3 }],
    [UniPCMultistepScheduler, { solver_order: 3, solver_type: 'bh1', predict_x0: false }],
    [UniPCMultistepScheduler, { use_karras_sigmas: true }],
    [DEISMultistepScheduler, { solver_order: 3 }],
    [DDIMScheduler, { timestep_spacing: 'linspace', clip_sample: true, thresholding: true }],
  ];
  for (const [Cls, over] of variants) {
    for (const n of [7, 20]) {
      const s = new Cls({ ...schedulerBaseConfig(), ...over });
      const tr = runDummyLoop(s, { ...cases[0]!, numInferenceSteps: n });
      assert.ok(tr.every(Number.isFinite), `${s.className} ${JSON.stringify(over)} n=${n}`);
    }
  }
});

test('every registered scheduler runs 1, 2 and 3 steps to finite timesteps and samples', () => {
  // Short schedules exercise numpy's clamped slicing (e.g. PNDM's `_timesteps[-2:-1]` at n = 1).
  const base = schedulerBaseConfig();
  const gen = new TorchGenerator(0);
  for (const name of SCHEDULER_NAMES.filter((n) => n !== 'default')) {
    for (const steps of [1, 2, 3]) {
      const s = createScheduler(name, base);
      s.setTimesteps(steps);
      assert.ok(s.timesteps.length >= 1, `${name}@${steps}: no timesteps`);
      assert.ok(s.timesteps.every(Number.isFinite), `${name}@${steps}: timesteps ${Array.from(s.timesteps)}`);
      let sample: Latents = { data: new Float32Array(16).fill(0.5).map((v, i) => v * s.initNoiseSigma + i / 16), dims: [1, 4, 2, 2] };
      for (const t of s.timesteps) {
        const scaled = s.scaleModelInput(sample, t);
        const out = { data: scaled.data.map((v) => v * 0.1), dims: scaled.dims };
        sample = s.step(out, t, sample, { generator: gen }).prevSample;
      }
      assert.ok(sample.data.every(Number.isFinite), `${name}@${steps}: non-finite sample`);
    }
  }
});
