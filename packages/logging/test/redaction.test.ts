// URL query strings (signed URL credentials, webhook tokens) never reach the logs; the rest of the
// URL does, so a line still says where a request went. Client-safe messages lose internals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { pino } from 'pino';
import { createLogger, loggerOptions, redactUrlQuery, scrubInternals } from '../src/index.ts';

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

test('child bindings are redacted like logged fields (request, job and key loggers)', () => {
  const { lines, destination } = capture();
  const log = createLogger({ destination });
  const child = log.child({ request_id: 'r1', url: '/v1/files/k?sig=SIG10', authorization: 'Bearer KEY11' })
    .child({ headers: { authorization: 'Bearer KEY12' }, webhook: { url: 'https://h/x?token=TOKEN13' }, secret: 'KEY14', key_name: 'ci' });
  child.warn('x');
  const text = lines.join('');
  for (const s of ['SIG10', 'KEY11', 'KEY12', 'TOKEN13', 'KEY14']) assert.ok(!text.includes(s), `${s} leaked: ${text}`);
  const line = JSON.parse(text) as Record<string, unknown>;
  assert.equal(line.request_id, 'r1');
  assert.equal(line.key_name, 'ci');
  assert.equal(line.url, '/v1/files/k?sig=[redacted]');
});

test('createLogger children write what pino\'s own child() with the same redaction writes, whatever the bindings', () => {
  // createLogger's child() skips the redactor for plain values under keys no redact path names;
  // this compares it with pino's child() (same options) on arbitrary bindings, redacted keys included.
  const noTime = { timestamp: false } as const;
  const keys = fc.oneof(
    fc.constantFrom('request_id', 'job_id', 'key_name', 'attempt', 'url', 'href', 'location', 'authorization', 'secret',
      'password', 'apiKeys', 'credentials', 'headers', 'req', 'webhook', 'webhook_url', 'images', 'result', 'job', 'err',
      'level', 'serializers', 'customLevels', 'msg', 'x-api-key', 'AWS_SECRET_ACCESS_KEY', '__proto__', 'constructor'),
    fc.string({ maxLength: 12 }),
  );
  const leaf = fc.oneof(fc.string(), fc.constantFrom('https://h/p?sig=S&x=1', 'Bearer K', '/v1/files/a?expires=1&sig=Z'),
    fc.integer(), fc.double(), fc.boolean(), fc.constant(undefined), fc.constant(null));
  const value = fc.oneof(leaf, fc.dictionary(keys, leaf, { maxKeys: 3, noNullPrototype: true }), fc.array(fc.dictionary(keys, leaf, { maxKeys: 2, noNullPrototype: true }), { maxLength: 2 }),
    fc.record({ headers: fc.record({ authorization: fc.string(), cookie: fc.string() }) }), fc.record({ url: fc.string() }));
  fc.assert(fc.property(fc.array(fc.dictionary(keys, value, { maxKeys: 4, noNullPrototype: true }), { minLength: 1, maxLength: 3 }), fc.option(fc.constantFrom('warn', 'error')), (chain, level) => {
    const ours = capture();
    const theirs = capture();
    let a = createLogger({ destination: ours.destination, pino: noTime });
    let b = pino(loggerOptions({ pino: noTime }), theirs.destination);
    for (const bindings of chain) {
      a = a.child(bindings, level ? { level } : undefined);
      b = b.child(bindings, level ? { level } : undefined);
    }
    a.error({ extra: 1 }, 'm');
    b.error({ extra: 1 }, 'm');
    assert.equal(ours.lines.join(''), theirs.lines.join(''));
    assert.deepEqual(a.bindings(), b.bindings());
  }), { numRuns: 500 });
});
