// The engine thread's model cache policy (MODEL_CACHE_MAX, MODEL_CACHE_BYTES, LoRA copies in the
// same byte budget), with stand-in pipelines that record their release.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineResidency } from '../src/runtime/pipeline-residency.ts';

function harness(limits: ConstructorParameters<typeof PipelineResidency>[0]) {
  const released: string[] = [];
  const cache = new PipelineResidency<{ release(): Promise<void> }>(limits);
  const value = (key: string) => ({ release: async () => { released.push(key); } });
  const model = (key: string, bytes = 100) => cache.get(key, { kind: 'model', bytes, load: async () => ({ value: value(key) }) });
  const lora = (key: string, base: string, bytes = 50) => cache.get(key, { kind: 'lora', base, bytes, load: async () => ({ value: value(key) }) });
  const keys = () => cache.entries().map((e) => e.key);
  return { cache, released, model, lora, keys };
}

test('MODEL_CACHE_MAX: the least recently used model is released before another loads; a hit reloads nothing', async () => {
  const h = harness({ maxModels: 2 });
  await h.model('a');
  await h.model('b');
  await h.model('a'); // a is now the most recent
  assert.equal(h.cache.loads, 2);
  await h.model('c');
  assert.deepEqual(h.released, ['b']);
  assert.deepEqual(h.keys(), ['a', 'c']);
  await h.model('b'); // a job for a released model loads it again
  assert.equal(h.cache.loads, 4);
  assert.deepEqual(h.released, ['b', 'a']);
});

test('MODEL_CACHE_BYTES counts models and LoRA copies together; a released model takes its copies along', async () => {
  const h = harness({ maxModels: 5, maxLoraPipelines: 5, maxBytes: 260 });
  await h.model('a'); // 100
  await h.lora('a|x', 'a'); // 150
  await h.model('b'); // 250
  assert.deepEqual(h.released, []);
  // Using the copy touches its base too: b is now the least recently used.
  await h.lora('a|x', 'a');
  await h.lora('a|y', 'a'); // 300 > 260: b goes, a stays (it is the copy's base)
  assert.deepEqual(h.released, ['b']);
  assert.deepEqual(h.keys().sort(), ['a', 'a|x', 'a|y']);
  await h.model('c', 150); // 350 > 260: the oldest copy goes, still 300: then a with its other copy
  assert.deepEqual(h.released.slice(1).sort(), ['a', 'a|x', 'a|y']);
  assert.deepEqual(h.keys(), ['c']);
  assert.equal(h.cache.bytes, 150);
});

test('LoRA copies have their own count; an entry larger than the budget still loads', async () => {
  const h = harness({ maxModels: 2, maxLoraPipelines: 1, maxBytes: 120 });
  await h.model('a');
  await h.lora('a|x', 'a', 10);
  await h.lora('a|y', 'a', 10);
  assert.deepEqual(h.released, ['a|x']);
  await h.model('big', 500);
  assert.deepEqual(h.keys(), ['big']);
  assert.equal(h.cache.bytes, 500);
});

test('a failed load is not kept; releaseAll releases everything', async () => {
  const h = harness({ maxModels: 2 });
  await assert.rejects(h.cache.get('bad', { kind: 'model', bytes: 1, load: async () => { throw new Error('broken'); } }), /broken/);
  assert.equal(h.cache.has('bad'), false);
  await h.model('a');
  await h.lora('a|x', 'a');
  await h.cache.releaseAll();
  assert.deepEqual(h.released, ['a|x', 'a']);
  assert.deepEqual(h.keys(), []);
});
