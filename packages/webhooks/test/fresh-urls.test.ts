import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withFreshImageUrls } from '../src/fresh-urls.ts';

test('image and animation URLs are signed again from their keys; other fields stay as they were', async () => {
  const body = JSON.stringify({
    type: 'job.succeeded', timestamp: '2026-01-01T00:00:00.000Z',
    data: { id: 'j', status: 'succeeded', result: {
      images: [{ key: 'p/j/0.png', url: 'https://old/0', seed: 1 }, { key: null, url: null, blocked: true }],
      animation: { key: 'p/j/anim.webp', url: 'https://old/a' },
    } },
  });
  const msg = { messageId: 'msg_j_job.succeeded', jobId: 'j', url: 'https://hook', type: 'job.succeeded' as const, body };
  const fresh = await withFreshImageUrls(msg, async (key) => `https://new/${key}`);
  const data = (JSON.parse(fresh.body) as { data: { result: { images: Array<{ url: string | null; seed?: number }>; animation: { url: string } } } }).data;
  assert.equal(data.result.images[0]!.url, 'https://new/p/j/0.png');
  assert.equal(data.result.images[0]!.seed, 1);
  assert.equal(data.result.images[1]!.url, null, 'a blocked image keeps no URL');
  assert.equal(data.result.animation.url, 'https://new/p/j/anim.webp');
  const none = { ...msg, body: JSON.stringify({ type: 'job.failed', timestamp: 't', data: { id: 'j', result: null } }) };
  assert.equal(await withFreshImageUrls(none, async () => 'x'), none, 'nothing to sign: the same message');
});
