// jobResourceJson is JSON.stringify of the job resource, byte for byte, for jobs in every state;
// with the params string the store remembered, and without.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildJobResource, fromHash, jobResourceJson, JobStore, rememberParamsJson, rememberStoredParamsJson, toHash, type JobRecord } from '../src/index.ts';
import { newRecord, params, privateRedis } from './helpers.ts';

const db = privateRedis();

function record(over: Partial<JobRecord>): JobRecord {
  return { ...fromHash(toHash(newRecord('j-1'), '2026-12-01T10:00:00.000Z')), ...over };
}

const urlFor = async (key: string) => `https://files.test/${key}?sig=x`;
const cases: Array<[string, JobRecord, number | null]> = [
  ['queued', record({}), 3],
  ['running, animation progress, metadata', record({ status: 'running', started_at: '2026-12-01T10:00:01.000Z', progress: { step: 2, total: 8, frame: 1, frames: 4 }, metadata: { user: 'ü "quoted" \\ \n', n: 1 } }), null],
  ['succeeded with images and an animation', record({
    status: 'succeeded', started_at: 't1', finished_at: 't2', attempts: 1,
    result: { images: [{ key: 'a.png', seed: 42, width: 64, height: 64, content_type: 'image/png' }] as never, animation: { key: 'a.webp', frames: 4, fps: 8, content_type: 'image/webp' } as never },
  }), null],
  ['failed, canceled flag, webhook with attempts', record({
    status: 'failed', error: { code: 'engine_error', message: 'it broke — “badly”' }, cancel_requested: true,
    webhook: { url: 'https://hooks.test/x', events: ['job.succeeded'] },
    webhook_attempts: [{ webhook_id: 'w', event: 'job.failed', attempt: 1, at: 't', status: 500, ok: false }],
  }), null],
  ['unicode prompt', record({ params: params({ prompt: '🌊 vague «déferlante»\u2028', prompt_raw: '🌊' }) }), 0],
];

test('jobResourceJson equals JSON.stringify of the resource, field for field and in order', async () => {
  for (const [name, rec, position] of cases) {
    const resource = await buildJobResource(rec, { urlFor, queuePosition: position });
    assert.equal(jobResourceJson(resource), JSON.stringify(resource), name);
    // A resource with a key the serialiser does not know would differ: every key is covered.
    assert.deepEqual(Object.keys(JSON.parse(jobResourceJson(resource))), Object.keys(resource), name);
  }
});

test('the remembered params string is embedded as is: for frozen params objects, and for a created job\'s stored params', async () => {
  const frozen = Object.freeze({ ...params(), steps: 7 });
  rememberParamsJson(frozen, '{"remembered":true}');
  const resource = await buildJobResource(record({ params: frozen as never }), { urlFor });
  assert.match(jobResourceJson(resource), /"params":\{"remembered":true\}/);
  const open = { ...params() };
  rememberParamsJson(open, '{"remembered":true}');
  const resource2 = await buildJobResource(record({ params: open }), { urlFor });
  assert.equal(jobResourceJson(resource2), JSON.stringify(resource2), 'an object that could change is serialised');
  // A job just created: its response shows the params as stored, frozen or not.
  rememberStoredParamsJson(open, '{"stored":true}');
  assert.match(jobResourceJson(await buildJobResource(record({ params: open }), { urlFor })), /"params":\{"stored":true\}/);
});

test('a store sharing params answers the same JSON as a plain one, on create and on read', async () => {
  const shared = new JobStore(db.redis, { prefix: 'rj', shareParams: true });
  const plain = new JobStore(db.redis, { prefix: 'rj' });
  const created = await shared.create({ ...newRecord('c'), params: params({ prompt: 'a (cat:1.2) « x »' }) });
  assert.ok(!Object.isFrozen(created.params), 'create leaves the caller\'s params as they are');
  const json = async (rec: JobRecord | null) => jobResourceJson(await buildJobResource(rec!, { urlFor, queuePosition: rec!.queue_position }));
  const reference = JSON.stringify(await buildJobResource((await plain.get('c'))!, { urlFor, queuePosition: 0 }));
  assert.equal(await json(created), reference);
  assert.equal(await json(await shared.get('c')), reference);
  await shared.close();
  await plain.close();
});
