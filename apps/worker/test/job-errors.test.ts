import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelFailure } from '../src/job-errors.ts';

test('engine errors become non-retryable model failures; a too-long prompt keeps its own code', () => {
  const generic = modelFailure(new Error('bad graph'));
  assert.equal(generic.code, 'model_error');
  assert.equal(generic.retryable, false);

  // EngineHost rebuilds thread errors as plain Errors carrying the original name.
  const long = new Error('this UNet takes exactly 77 text tokens');
  long.name = 'PromptTooLongError';
  const failure = modelFailure(long);
  assert.equal(failure.code, 'prompt_too_long');
  assert.equal(failure.retryable, false);
  assert.match(failure.message, /exactly 77 text tokens/);
});
