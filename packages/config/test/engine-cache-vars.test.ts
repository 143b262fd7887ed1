// MODEL_CACHE_MAX, MODEL_CACHE_BYTES and WARMUP_SIZES (issue #11).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/index.ts';

const load = (env: Record<string, string>) => loadConfig(env, { cwd: '/srv/app' });

test('defaults: two models, no byte limit, warm-up at the native size (unset)', () => {
  const c = load({});
  assert.equal(c.modelCacheMax, 2);
  assert.equal(c.modelCacheBytes, 0);
  assert.equal(c.warmupSizes, undefined);
});

test('sizes and byte units parse; empty or none means no warm-up', () => {
  const c = load({ MODEL_CACHE_MAX: '3', MODEL_CACHE_BYTES: '8GiB', WARMUP_SIZES: '512x512, 768x640' });
  assert.equal(c.modelCacheMax, 3);
  assert.equal(c.modelCacheBytes, 8 * 2 ** 30);
  assert.deepEqual(c.warmupSizes, [{ width: 512, height: 512 }, { width: 768, height: 640 }]);
  assert.deepEqual(load({ WARMUP_SIZES: '' }).warmupSizes, []);
  assert.deepEqual(load({ WARMUP_SIZES: 'none' }).warmupSizes, []);
});

test('bad values are refused by name', () => {
  for (const [name, value] of [['WARMUP_SIZES', '512'], ['WARMUP_SIZES', '0x512'], ['MODEL_CACHE_BYTES', 'lots'], ['MODEL_CACHE_MAX', '0']]) {
    assert.throws(() => load({ [name!]: value! }), (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.variable === name));
  }
});
