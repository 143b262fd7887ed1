import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createObjectStore, FileObjectStore, isStorageError, outputKey } from '../src/index.ts';

let root: string;
before(async () => { root = await mkdtemp(join(tmpdir(), 'sdsvc-files-')); });
after(async () => { await rm(root, { recursive: true, force: true }); });

const open = (dir = root, secret: string | null = 's'.repeat(32)) =>
  FileObjectStore.open({ root: dir, publicBaseUrl: 'http://api.test:8080/', secret: secret ?? undefined, ttlSeconds: 60 });

function parse(url: string) {
  const u = new URL(url);
  const key = decodeURIComponent(u.pathname.slice('/v1/files/'.length));
  return { u, key, expires: u.searchParams.get('expires')!, sig: u.searchParams.get('sig')! };
}

test('put and get with atomic writes (no temp files left)', async () => {
  const st = await open();
  const key = outputKey(st, 'job1', 0, 'png');
  assert.equal(key, 'job1/0.png');
  await st.put(key, Buffer.from('one'), 'image/png');
  await st.put(key, Buffer.from('two'), 'image/png');
  assert.equal((await st.get(key)).toString(), 'two');
  assert.deepEqual(await readdir(join(root, 'job1')), ['0.png']);
  assert.deepEqual(await st.head(key), { contentType: 'image/png', bytes: 3 });
  const { stream, bytes, contentType } = await st.openRead(key);
  assert.equal(bytes, 3);
  assert.equal(contentType, 'image/png');
  stream.destroy();
  await st.delete(key);
  await assert.rejects(st.get(key), (e) => isStorageError(e, 'object_not_found'));
  await st.ping();
});

test('signed URL verifies; expiry and tampering are refused', async () => {
  const st = await open();
  const now = Date.UTC(2030, 0, 1);
  const url = await st.url('job 2/0.png', now);
  const { u, key, expires, sig } = parse(url);
  assert.equal(u.origin, 'http://api.test:8080');
  assert.equal(u.pathname, '/v1/files/job%202/0.png');
  assert.equal(Number(expires), now / 1000 + 60);
  assert.equal(st.checkSignedUrl(key, expires, sig, now), 'ok');
  assert.equal(st.verifySignedUrl(key, expires, sig, now + 59_000), true);
  assert.equal(st.checkSignedUrl(key, expires, sig, now + 61_000), 'expired');
  assert.equal(st.checkSignedUrl('job 2/1.png', expires, sig, now), 'bad_signature');
  assert.equal(st.checkSignedUrl(key, String(Number(expires) + 3600), sig, now), 'bad_signature');
  assert.equal(st.checkSignedUrl(key, expires, sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A'), now), 'bad_signature');
  assert.equal(st.checkSignedUrl(key, expires, '', now), 'bad_signature');
  assert.equal(st.checkSignedUrl(key, 'soon', sig, now), 'bad_signature');
  const other = await open(root, 'o'.repeat(32));
  assert.equal(other.checkSignedUrl(key, expires, sig, now), 'bad_signature');
});

test('path traversal and hidden names are refused', async () => {
  const st = await open();
  for (const key of ['../etc/passwd', 'a/../../b', '/abs', 'a//b', 'a\\..\\b', '.url-secret', 'a/.tmp-x', 'a/', '']) {
    await assert.rejects(st.put(key, Buffer.alloc(1), 'text/plain'), (e) => isStorageError(e, 'invalid_key'), key);
    await assert.rejects(st.get(key), (e) => isStorageError(e, 'invalid_key'), key);
  }
});

test('without FILE_URL_SECRET the key is created once and shared through the root', async () => {
  const dir = join(root, 'shared');
  const [a, b] = await Promise.all([open(dir, null), open(dir, null)]);
  const { key, expires, sig } = parse(await a.url('x/0.png'));
  assert.equal(b.verifySignedUrl(key, expires, sig), true);
  assert.ok((await readFile(join(dir, '.url-secret'), 'utf8')).length >= 32);
  const c = await open(dir, null);
  assert.equal(c.verifySignedUrl(key, expires, sig), true);
});

test('createObjectStore picks the store from the config', async () => {
  const st = await createObjectStore({
    storage: { kind: 'file', root: join(root, 'cfg') }, s3: { endpoint: undefined, region: 'us-east-1', forcePathStyle: false },
    storagePublicBaseUrl: undefined, signedUrlTtlSeconds: 10, publicBaseUrl: 'http://localhost:1', fileUrlSecret: 'f'.repeat(16),
  });
  assert.equal(st.kind, 'file');
  assert.match(await st.url('a/0.png'), /^http:\/\/localhost:1\/v1\/files\/a\/0\.png\?expires=\d+&sig=/);
  const s3 = await createObjectStore({
    storage: { kind: 's3', bucket: 'images', prefix: 'out' }, s3: { endpoint: 'http://127.0.0.1:1', region: 'us-east-1', forcePathStyle: true },
    storagePublicBaseUrl: 'https://cdn.test', signedUrlTtlSeconds: 10, publicBaseUrl: 'http://localhost:1', fileUrlSecret: undefined,
  });
  assert.equal(s3.kind, 's3');
  assert.equal(s3.keyPrefix, 'out');
  assert.equal(await s3.url('out/a/0.png'), 'https://cdn.test/out/a/0.png');
  await s3.close();
});
