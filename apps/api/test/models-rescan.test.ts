// A model copied into MODELS_DIR while the API runs is found by a request naming it, with a rescan
// at most every 5 s (README: "a request naming an unknown id rescans MODELS_DIR, at most every
// 5 s"). The clock is node:test's mocked Date, so the test does not wait 5 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODELS_DIR, startHarness } from './harness.ts';

test('an unknown model id rescans MODELS_DIR, at most every 5 s', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sdsvc-models-'));
  await symlink(join(MODELS_DIR, 'tiny-sd15'), join(dir, 'tiny-sd15'));
  const h = await startHarness({ MODELS_DIR: dir });
  try {
    const submit = (model: string) => h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { model, prompt: 'a cat' } });
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    // Past the interval since start-up: this request rescans, and the 5 s count from here.
    t.mock.timers.tick(5001);
    const before = await submit('late');
    assert.equal(before.statusCode, 400, before.body);
    assert.equal(before.json().code, 'unknown_model');

    await symlink(join(MODELS_DIR, 'tiny-sd15'), join(dir, 'late'));
    // Within 5 s of the last scan the folder is not looked at again.
    t.mock.timers.tick(4000);
    const early = await submit('late');
    assert.equal(early.statusCode, 400, 'no rescan within 5 s');
    assert.equal(early.json().code, 'unknown_model');

    t.mock.timers.tick(1001);
    const found = await submit('late');
    assert.equal(found.statusCode, 202, found.body);
    assert.equal(found.json().model, 'late');
    const listed = (await h.app.inject({ url: '/v1/models' })).json().data as Array<{ id: string }>;
    assert.deepEqual(listed.map((m) => m.id).sort(), ['late', 'tiny-sd15']);
  } finally {
    t.mock.timers.reset();
    await h.close();
    await rm(dir, { recursive: true, force: true });
  }
});
