// SAFETY_EXEMPT_KEYS: `safety: false` is accepted only from listed keys — by key (API_KEYS) or by
// name (API_KEYS_FILE) — and is echoed in params; every other caller gets 403 safety_not_exempt.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdsvc-exempt-'));
  const file = join(dir, 'keys.txt');
  const hex = (k: string) => createHash('sha256').update(k).digest('hex');
  await writeFile(file, `research-team:${hex('file-key-exempt')}\nweb-app:${hex('file-key-plain')}\n`);
  h = await startHarness({ API_KEYS: 'plain-exempt-key,plain-other-key', API_KEYS_FILE: file, SAFETY_EXEMPT_KEYS: 'plain-exempt-key,research-team' });
});
after(async () => {
  await h.close();
  await rm(dir, { recursive: true, force: true });
});

const submit = (key: string) => h.app.inject({
  method: 'POST', url: '/v1/jobs', headers: { authorization: `Bearer ${key}` }, payload: { prompt: 'a fox', steps: 1, safety: false },
});

test('listed keys (by key and by file name) may turn the checker off; it is echoed in params', async () => {
  for (const key of ['plain-exempt-key', 'file-key-exempt']) {
    const res = await submit(key);
    assert.equal(res.statusCode, 202, `${key}: ${res.body}`);
    assert.equal(res.json().params.safety, false);
  }
});

test('other keys get 403 safety_not_exempt', async () => {
  for (const key of ['plain-other-key', 'file-key-plain']) {
    const res = await submit(key);
    assert.equal(res.statusCode, 403, key);
    assert.equal(res.json().code, 'safety_not_exempt');
  }
});
