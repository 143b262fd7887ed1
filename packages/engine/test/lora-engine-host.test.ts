// LoRAs through the engine thread: a job's `loras` run on a merged pipeline, a second job with the
// same set reuses it (one "lora merge" log line), and the LoRA changes the image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sha256Hex } from '@sdsvc/lora';
import { EngineHost } from '../src/runtime/engine-host.ts';
import type { GenerateRequest } from '../src/pipelines/types.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const FILE = join(ROOT, 'test/fixtures/lora/tiny-sd15-lora.kohya.safetensors');

test('the engine thread merges a LoRA set once and reuses it', async () => {
  const logs: string[] = [];
  const host = await EngineHost.start({ modelsDir: join(ROOT, 'models'), warmup: false, intraOpNumThreads: 1, log: (m) => logs.push(m) });
  try {
    const req: GenerateRequest = { mode: 'txt2img', prompt: 'a castle', width: 64, height: 64, steps: 2, guidanceScale: 7.5, seed: 3, numImages: 1 };
    const loras = [{ name: 'kohya', file: FILE, sha256: sha256Hex(readFileSync(FILE)), scale: 1 }];
    const plain = await host.generate('tiny-sd15', req);
    const first = await host.generate('tiny-sd15', { ...req, loras });
    const second = await host.generate('tiny-sd15', { ...req, loras });
    const merges = logs.filter((m) => m.startsWith('lora merge:'));
    assert.equal(merges.length, 1, `one merge for two jobs: ${merges.join(' | ')}`);
    assert.match(merges[0]!, /kohya:1 into tiny-sd15: 40 weights/);
    assert.deepEqual(second.images[0]!.data, first.images[0]!.data);
    assert.notDeepEqual(first.images[0]!.data, plain.images[0]!.data);
    // The base pipeline is unchanged by the merge.
    assert.deepEqual((await host.generate('tiny-sd15', req)).images[0]!.data, plain.images[0]!.data);
  } finally {
    await host.close();
  }
});
