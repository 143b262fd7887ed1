// EXECUTION_PROVIDERS is an explicit policy: a provider that cannot open a graph falls back only
// to the next provider *listed*; with no CPU listed the load fails, naming the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createSession, ExecutionProviderError } from '../src/models/onnx-session.ts';
import { MODELS_DIR } from './support/pipeline-golden.ts';

const graph = join(MODELS_DIR, 'tiny-sd15', 'vae_decoder', 'model.onnx');
// CoreML exists only on Apple platforms: on Linux it can never load.
const unavailable = 'coreml' as const;

test('a listed provider that cannot load is an error unless cpu is listed after it', { skip: process.platform === 'darwin' && 'CoreML may load here' }, async () => {
  const logs: string[] = [];
  await assert.rejects(createSession(graph, { executionProviders: [unavailable], log: (m) => logs.push(m) }),
    (err: Error) => err instanceof ExecutionProviderError && /EXECUTION_PROVIDERS=coreml/.test(err.message) && /list cpu last/.test(err.message));
  const s = await createSession(graph, { executionProviders: [unavailable, 'cpu'], log: (m) => logs.push(m) });
  try {
    assert.equal(s.provider, 'cpu');
    assert.ok(logs.some((m) => m.includes('"coreml" could not open') && m.includes('trying "cpu"')), logs.join('\n'));
    assert.ok(logs.some((m) => m.endsWith('runs on cpu')), 'the provider used is logged');
  } finally {
    await s.session.release();
  }
  // No process-wide switch: the next graph tries the listed provider again.
  await assert.rejects(createSession(graph, { executionProviders: [unavailable] }), ExecutionProviderError);
});
