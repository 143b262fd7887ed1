// Euler, Euler ancestral, LMS, Heun and KDPM2 against diffusers 0.27.2 on its own dummy-model loop
// (test/fixtures/parity/schedulers): schedules, init_noise_sigma, noise draws and trajectories.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Scheduler } from '../src/schedulers/types.ts';
import type { SchedulerConfig } from '../src/schedulers/config.ts';
import type { NoiseGenerator } from '../src/random/noise-generator.ts';
import { EulerDiscreteScheduler } from '../src/schedulers/euler.ts';
import { EulerAncestralDiscreteScheduler } from '../src/schedulers/euler-ancestral.ts';
import { LMSDiscreteScheduler } from '../src/schedulers/lms.ts';
import { HeunDiscreteScheduler } from '../src/schedulers/heun.ts';
import { KDPM2DiscreteScheduler } from '../src/schedulers/kdpm2.ts';
import { integrate } from '../src/schedulers/lms.ts';
import { TorchGenerator } from '../src/random/torch-generator.ts';
import { alphasCumprodFor } from '../src/schedulers/common/noise-schedule.ts';
import { CountingGenerator, loadSchedulerCases, maxRelErr, runDummyLoop, type Case } from './support/scheduler-golden.ts';

const f = Math.fround;

const CLASSES: Record<string, new (config: Partial<SchedulerConfig>) => Scheduler> = {
  EulerDiscreteScheduler,
  EulerAncestralDiscreteScheduler,
  LMSDiscreteScheduler,
  HeunDiscreteScheduler,
  KDPM2DiscreteScheduler,
};
const VARIANTS = ['euler', 'euler_v', 'euler_leading', 'euler_karras', 'euler_a', 'euler_a_trailing', 'lms', 'heun', 'kdpm2'];
/** Variants whose trajectory depends on the random draws themselves (not just their count). */
const USES_NOISE = new Set(['euler_a', 'euler_a_trailing']);


/** Draws zeros and records nothing else: for draw counts where the values do not matter. */
class ZeroGenerator implements NoiseGenerator {
  randn(shape: readonly number[]): Float32Array { return new Float32Array(shape.reduce((a, b) => a * b, 1)); }
  rand(shape: readonly number[]): Float32Array { return this.randn(shape); }
}

function sigmasOf(s: Scheduler): Float32Array {
  return (s as unknown as { sigmas: Float32Array }).sigmas;
}

const cases = loadSchedulerCases().filter((c) => VARIANTS.includes(c.variant));

function make(c: Case): Scheduler {
  const Cls = CLASSES[c.scheduler];
  assert.ok(Cls, `no class for ${c.scheduler}`);
  return new Cls(c.config);
}

function assertClose(actual: ArrayLike<number>, expected: readonly number[], rel: number, what: string): void {
  assert.equal(actual.length, expected.length, `number of ${what}s`);
  for (let i = 0; i < expected.length; i++) {
    const got = actual[i]!, want = expected[i]!;
    assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `${what} ${i}: ${got}, diffusers ${want}`);
  }
}

it('the training schedule reproduces torch 1.13\'s SD 1.5 alphas_cumprod (sigmas at t = 999, 0, 501, 51, bit for bit)', () => {
  const ac = alphasCumprodFor({ num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', prediction_type: 'epsilon', steps_offset: 1 } as SchedulerConfig);
  const sigma = (a: number) => f(Math.sqrt(f(f(1 - a) / a)));
  assert.deepEqual([sigma(ac[999]!), sigma(ac[0]!), sigma(ac[501]!), sigma(ac[51]!)],
    [14.614645004272461, 0.029167532920837402, 1.6236928701400757, 0.22814729809761047]);
});

describe('sigma schedulers match diffusers 0.27.2 (dummy loop)', () => {
  for (const c of cases) {
    describe(c.id, () => {
      it('timesteps (2e-5), order, sigmas and init_noise_sigma (5e-6)', () => {
        const s = make(c);
        s.setTimesteps(c.numInferenceSteps);
        assert.equal(s.order, c.order);
        assertClose(s.timesteps, c.timesteps, 2e-5, 'timestep');
        assert.ok(c.sigmas);
        assertClose(sigmasOf(s), c.sigmas, 5e-6, 'sigma');
        assertClose([s.initNoiseSigma], [c.initNoiseSigma], 5e-6, 'init_noise_sigma');
      });

      it('bit-exact: sigmas, init_noise_sigma, integer timesteps (fractional ones within 8 half-ulps)', () => {
        // common/noise-schedule.ts reproduces torch 1.13's AVX2 linspace (software fmaf, so the
        // same on every machine) and its float64 cumprod: every sigma is bit-exact, everywhere.
        // Fractional timesteps go through numpy/SLEEF float32 logs, hence the half-ulp bound.
        const s = make(c);
        s.setTimesteps(c.numInferenceSteps);
        assert.deepEqual([...sigmasOf(s)], c.sigmas);
        assert.equal(s.initNoiseSigma, c.initNoiseSigma);
        c.timesteps.forEach((want, i) => {
          const got = f(s.timesteps[i]!);
          if (Number.isInteger(want)) assert.equal(got, want, `timestep ${i}`);
          else assert.ok(Math.abs(got - want) <= 8 * want * 2 ** -24, `timestep ${i}: ${got} vs ${want}`);
        });
      });

      it('noise draws: count and shapes', () => {
        const gen = new CountingGenerator(new ZeroGenerator());
        runDummyLoop(make(c), c, gen);
        assert.equal(gen.draws.length, c.stepNoiseDraws.count);
        const shapes = c.stepNoiseDraws.shapes;
        for (const d of gen.draws) assert.ok(shapes.some((s) => s.join() === d.join()), `draw shape ${d}`);
      });

      it('trajectory within 1e-4 of the whole trajectory magnitude', () => {
        const gen: NoiseGenerator = USES_NOISE.has(c.variant) || c.stepNoiseDraws.count > 0 ? new TorchGenerator(0) : new ZeroGenerator();
        const traj = runDummyLoop(make(c), c, gen);
        const err = maxRelErr(traj, c.trajectory);
        assert.ok(err <= 1e-4, `max relative error ${err.toExponential(2)}`);
      });
    });
  }
});

describe('step-index bookkeeping', () => {
  it('addNoise at the first kept timestep uses begin_index (img2img)', () => {
    for (const Cls of Object.values(CLASSES)) {
      const s = new Cls({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012, steps_offset: 1 });
      s.setTimesteps(10);
      const begin = 3 * s.order; // t_start * order, as diffusers' img2img pipeline sets it
      s.setBeginIndex!(begin);
      const t = s.timesteps[begin]!;
      const x = { data: Float32Array.from([1, -2, 0.5, 0]), dims: [1, 1, 2, 2] };
      const noise = { data: Float32Array.from([0.25, 1, -1, 2]), dims: x.dims };
      const sigma = (s as unknown as { sigmas: Float32Array }).sigmas[begin]!;
      const out = s.addNoise(x, noise, t);
      for (let i = 0; i < 4; i++) assert.equal(out.data[i], f(x.data[i]! + f(noise.data[i]! * sigma)), `${s.className} ${i}`);
      // The run then starts at begin_index: scaleModelInput divides by sqrt(sigma² + 1).
      const scaled = s.scaleModelInput(x, t);
      assert.equal(scaled.data[0], f(1 / f(Math.sqrt(f(f(sigma * sigma) + 1)))), s.className);
    }
  });

  it('without begin_index, a repeated timestep resolves to its second occurrence', () => {
    const s = new HeunDiscreteScheduler({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012 });
    s.setTimesteps(4);
    const t = s.timesteps[1]!;
    assert.equal(s.timesteps[2], t);
    const x = { data: new Float32Array(4), dims: [1, 1, 2, 2] };
    const noise = { data: Float32Array.from([1, 1, 1, 1]), dims: x.dims };
    assert.equal(s.addNoise(x, noise, t).data[0], s.sigmas[2]);
  });

  it('euler draws from the generator on every step even with s_churn 0', () => {
    const s = new EulerDiscreteScheduler({});
    s.setTimesteps(3);
    const gen = new CountingGenerator(new ZeroGenerator());
    const x = { data: new Float32Array(8).fill(1), dims: [2, 1, 2, 2] };
    for (const t of s.timesteps) s.step(x, t, s.scaleModelInput(x, t), { generator: gen });
    assert.deepEqual(gen.draws, [[2, 1, 2, 2], [2, 1, 2, 2], [2, 1, 2, 2]]);
  });
});

describe('LMS quadrature', () => {
  it('integrates smooth functions to 1e-10', () => {
    assert.ok(Math.abs(integrate(Math.sin, 0, Math.PI) - 2) < 1e-10);
    assert.ok(Math.abs(integrate((x) => x ** 3 - 2 * x, 3, -1) - (-(81 / 4 - 9) + (1 / 4 - 1))) < 1e-10);
    assert.ok(Math.abs(integrate(Math.exp, 0, 5) - (Math.exp(5) - 1)) < 1e-10 * Math.exp(5));
  });
});
