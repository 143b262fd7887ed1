import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startS3, type TestS3 } from '../../../test/support/s3.ts';
import { isStorageError, outputKey, S3ObjectStore } from '../src/index.ts';

let s3: TestS3;
before(async () => { s3 = await startS3(); });
after(async () => { await s3?.stop(); });

function store(extra: Partial<ConstructorParameters<typeof S3ObjectStore>[0]> = {}) {
  return new S3ObjectStore({
    bucket: s3.bucket, prefix: 'outputs', endpoint: s3.endpoint, region: s3.region,
    forcePathStyle: true, credentials: s3.credentials, ...extra,
  });
}

test('put, head, get, delete', async () => {
  const st = store();
  const key = outputKey(st, 'job1', 0, 'png');
  assert.equal(key, 'outputs/job1/0.png');
  const body = Buffer.from('not really a png');
  await st.ping();
  await st.put(key, body, 'image/png');
  assert.deepEqual(await st.get(key), body);
  assert.deepEqual(await st.head(key), { contentType: 'image/png', bytes: body.length });
  await st.delete(key);
  assert.equal(await st.head(key), null);
  await assert.rejects(st.get(key), (e) => isStorageError(e, 'object_not_found'));
  await st.delete(key); // absent: no error
  await st.close();
});

test('a presigned URL is fetched with plain fetch', async () => {
  const st = store({ signedUrlTtlSeconds: 600 });
  const key = 'outputs/job2/0.png';
  await st.put(key, Buffer.from('presigned body'), 'image/png');
  const url = await st.url(key);
  assert.match(url, /X-Amz-Signature=/);
  assert.match(url, /X-Amz-Expires=600/);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.equal(await res.text(), 'presigned body');
  // Tampering with the key breaks the signature.
  const bad = await fetch(url.replace('job2', 'job3'));
  assert.notEqual(bad.status, 200);
  await bad.body?.cancel();
  await st.close();
});

test('S3_PUBLIC_ENDPOINT: URLs are signed for the address clients use', async () => {
  const port = new URL(s3.endpoint).port;
  // The service talks to 127.0.0.1, clients are told "localhost": both reach the same server here.
  const st = store({ endpoint: `http://127.0.0.1:${port}`, publicEndpoint: `http://localhost:${port}` });
  await st.put('outputs/job5/0.png', Buffer.from('via public endpoint'), 'image/png');
  const url = await st.url('outputs/job5/0.png');
  assert.ok(url.startsWith(`http://localhost:${port}/`));
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'via public endpoint');
  await st.close();
});

test('public base URL mode returns <base>/<key>', async () => {
  const st = store({ publicBaseUrl: 'https://cdn.example.com/images/' });
  assert.equal(await st.url('outputs/job 4/0.png'), 'https://cdn.example.com/images/outputs/job%204/0.png');
  await st.close();
});

test('invalid keys are refused before any request', async () => {
  const st = store();
  await assert.rejects(st.put('../x', Buffer.alloc(1), 'text/plain'), (e) => isStorageError(e, 'invalid_key'));
  await st.close();
});

test('a missing bucket fails ping with storage_unavailable', async () => {
  const st = store({ bucket: 'no-such-bucket' });
  await assert.rejects(st.ping(), (e) => isStorageError(e, 'storage_unavailable'));
  await st.close();
});

test('a stopped server gives storage_unavailable', async () => {
  const own = await startS3({ bucket: 'scratch', forceS3rver: true });
  const st = new S3ObjectStore({
    bucket: own.bucket, endpoint: own.endpoint, forcePathStyle: true, credentials: own.credentials, maxAttempts: 2,
  });
  await st.ping();
  await own.stop();
  await assert.rejects(st.ping(), (e) => isStorageError(e, 'storage_unavailable'));
  await assert.rejects(st.put('a/b.png', Buffer.alloc(1), 'image/png'), (e) => isStorageError(e, 'storage_unavailable'));
  await st.close();
});
