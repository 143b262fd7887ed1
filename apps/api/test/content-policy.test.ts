// PROMPT_BLOCKLIST_FILE through the real app: a matching prompt is refused with 400 prompt_blocked
// naming no term, nothing is recorded or queued; `safety: false` needs an exempt key.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdsvc-policy-'));
  const file = join(dir, 'blocklist.txt');
  await writeFile(file, '# test list\nforbiddenterm\n/\\bbanned(thing|stuff)\\b/\n');
  h = await startHarness({ PROMPT_BLOCKLIST_FILE: file });
});
after(async () => {
  await h.close();
  await rm(dir, { recursive: true, force: true });
});

const submit = (body: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/v1/jobs', payload: { steps: 1, ...body } });
const waiting = async () => (await h.queue.queueFor('tiny-sd15').getJobCounts('wait')).wait ?? 0;

test('a prompt with a listed term is refused with 400 prompt_blocked, naming no term, and nothing is queued', async () => {
  const before = await waiting();
  for (const prompt of ['a FORBIDDENTERM at dusk', 'a (forbiddenterm:1.3) scene', 'some bannedStuff here']) {
    const res = await submit({ prompt });
    assert.equal(res.statusCode, 400, prompt);
    const body = res.json();
    assert.equal(body.code, 'prompt_blocked');
    assert.equal(body.errors[0].path, 'prompt');
    assert.doesNotMatch(res.body, /forbiddenterm|banned/i, 'the answer must not teach the list');
  }
  assert.equal(await waiting(), before);
});

test('words that only contain a term, and terms in the negative prompt, pass', async () => {
  for (const body of [{ prompt: 'forbiddenterms galore' }, { prompt: 'a fox', negative_prompt: 'forbiddenterm' }, { prompt: 'a fox (-forbiddenterm)' }]) {
    const res = await submit(body);
    assert.equal(res.statusCode, 202, JSON.stringify(body));
  }
});

test('safety: false without an exempt key is 403 safety_not_exempt', async () => {
  const res = await submit({ prompt: 'a fox', safety: false });
  assert.equal(res.statusCode, 403);
  assert.equal(res.json().code, 'safety_not_exempt');
});

test('an object-store outage while storing inputs is 503 storage_unavailable with Retry-After, not a 500', async () => {
  // The file store's root replaced by a file: every write fails as an outage would.
  const root = h.objects.root;
  await rename(root, `${root}.away`);
  await writeFile(root, 'not a folder');
  try {
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEklEQVR4nGP4z8CAFWEXHbQSACj/P8Fu7N9hAAAAAElFTkSuQmCC', 'base64');
    const res = await submit({ type: 'img2img', prompt: 'a fox', init_image: png.toString('base64') });
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.json().code, 'storage_unavailable');
    assert.equal(res.headers['retry-after'], '5');
  } finally {
    await rm(root);
    await rename(`${root}.away`, root);
  }
});
