// URL query strings (signed URL credentials, webhook tokens) never reach the logs; the rest of the
// URL does, so a line still says where a request went. Client-safe messages lose internals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, redactUrlQuery, scrubInternals } from '../src/index.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { lines, destination };
}

test('redactUrlQuery keeps scheme, host, path and parameter names', () => {
  assert.equal(redactUrlQuery('https://b.s3.amazonaws.com/k.png?X-Amz-Signature=abc&X-Amz-Credential=AKIA%2F1'),
    'https://b.s3.amazonaws.com/k.png?X-Amz-Signature=[redacted]&X-Amz-Credential=[redacted]');
  assert.equal(redactUrlQuery('/v1/files/a/0.png?expires=1&sig=xyz#frag'), '/v1/files/a/0.png?expires=[redacted]&sig=[redacted]');
  assert.equal(redactUrlQuery('https://hooks.test/in'), 'https://hooks.test/in');
});

test('signed URLs and webhook URLs in log lines lose their query values, wherever they sit', () => {
  const { lines, destination } = capture();
  const log = createLogger({ destination });
  log.info({ url: 'https://store/k?X-Amz-Signature=SIG1' }, 'a');
  log.info({ req: { method: 'GET', url: '/v1/files/k?expires=1&sig=SIG2' } }, 'b');
  log.info({ webhook: { url: 'https://hooks.test/x?token=TOKEN3', events: [] } }, 'c');
  log.info({ job: { result: { images: [{ url: 'https://cdn/k?sig=SIG4' }] } } }, 'd');
  log.info({ webhook_url: 'https://hooks.test/y?t=TOKEN5' }, 'e');
  log.error({ err: new Error('delivery to https://hooks.test/z?token=TOKEN6 failed') }, 'f');
  const text = lines.join('');
  for (const secret of ['SIG1', 'SIG2', 'TOKEN3', 'SIG4', 'TOKEN5', 'TOKEN6']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  assert.match(text, /hooks\.test\/x\?token=\[redacted\]/);
  assert.match(text, /\/v1\/files\/k\?expires=\[redacted\]&sig=\[redacted\]/);
});

test('secrets and Authorization headers stay blanked', () => {
  const { lines, destination } = capture();
  const log = createLogger({ destination });
  log.info({ req: { headers: { authorization: 'Bearer KEY7' } }, apiKeys: ['KEY8'], secret: 'KEY9' }, 'x');
  const text = lines.join('');
  for (const s of ['KEY7', 'KEY8', 'KEY9']) assert.ok(!text.includes(s), s);
});

test('scrubInternals: no endpoints, URLs or file paths in a client-facing message', () => {
  const msg = scrubInternals('S3 put "out/1.png" in bucket failed: connect ECONNREFUSED 10.0.3.7:9000 (https://minio.internal:9000/images?x=1) at /srv/app/node_modules/x.js and C:\\data\\file');
  assert.doesNotMatch(msg, /10\.0\.3\.7|9000|minio\.internal|\/srv\/app|C:\\data/);
  assert.match(msg, /<host>/);
  assert.match(msg, /<url>/);
  assert.match(msg, /<path>/);
});
