// Request bodies: multipart fields and files count against MAX_BODY_BYTES (413, declared or
// streamed, also over a real socket), broken multipart is 400 invalid_body, deep nesting 400.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { startHarness, type Harness } from './harness.ts';

const B = '----sec-boundary';
const part = (name: string, value: string) => `--${B}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const filePart = (name: string, bytes: Buffer) => Buffer.concat([
  Buffer.from(`--${B}\r\ncontent-disposition: form-data; name="${name}"; filename="x.png"\r\ncontent-type: image/png\r\n\r\n`), bytes, Buffer.from('\r\n')]);
const end = `--${B}--\r\n`;
const mpHeaders = { 'content-type': `multipart/form-data; boundary=${B}` };

describe('request bodies', () => {
  let h: Harness;
  before(async () => { h = await startHarness({ MAX_BODY_BYTES: '64KiB', MAX_IMAGE_BYTES: '48KiB' }); });
  after(async () => { await h.close(); });

  const post = (payload: string | Buffer | Readable, headers: Record<string, string> = mpHeaders) =>
    h.app.inject({ method: 'POST', url: '/v1/jobs', headers, payload });

  test('multipart under the limits is accepted', async () => {
    const res = await post(part('prompt', 'a fox') + part('steps', '2') + end);
    assert.equal(res.statusCode, 202, res.body);
  });

  test('files and fields together over MAX_BODY_BYTES → 413 payload_too_large (each file under MAX_IMAGE_BYTES)', async () => {
    const body = Buffer.concat([Buffer.from(part('prompt', 'a')), filePart('init_image', Buffer.alloc(40 * 1024, 1)), filePart('mask_image', Buffer.alloc(40 * 1024, 2)), Buffer.from(end)]);
    const declared = await post(body);
    assert.equal(declared.statusCode, 413);
    assert.equal(declared.json().code, 'payload_too_large');
    // Streamed without a Content-Length: cut off once the count passes the limit.
    const streamed = await post(Readable.from([body.subarray(0, 30_000), body.subarray(30_000, 60_000), body.subarray(60_000)]));
    assert.equal(streamed.statusCode, 413);
    assert.equal(streamed.json().code, 'payload_too_large');
    // Many text fields add up too.
    const fields = Array.from({ length: 40 }, (_, i) => part(`metadata${i}`, 'x'.repeat(2000))).join('') + end;
    assert.equal((await post(fields)).statusCode, 413);
  });

  test('broken multipart → 400 invalid_body (no boundary, cut short, garbage, wrong boundary)', async () => {
    const good = part('prompt', 'a fox') + part('steps', '2') + end;
    for (const [name, payload, headers] of [
      ['no boundary', good, { 'content-type': 'multipart/form-data' }],
      ['cut short', good.slice(0, 50), mpHeaders],
      ['cut inside a file', Buffer.concat([Buffer.from(part('prompt', 'a')), filePart('init_image', Buffer.alloc(500)).subarray(0, 200)]), mpHeaders],
      ['garbage part header', `--${B}\r\nthis is not a header\r\n\r\nx\r\n${end}`, mpHeaders],
    ] as const) {
      const res = await post(payload, headers);
      assert.ok(res.statusCode === 400, `${name}: ${res.statusCode} ${res.body}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/, name);
      assert.ok(['invalid_body', 'validation_failed'].includes(res.json().code), `${name}: ${res.json().code}`);
    }
  });

  test('deeply nested JSON → 400 invalid_body (was a stack overflow and a 500)', async () => {
    for (const n of [65, 5000, 100_000]) {
      const res = await post(`{"prompt":"a","metadata":${'['.repeat(n)}${']'.repeat(n)}}`, { 'content-type': 'application/json' });
      assert.ok(res.statusCode === 400 || res.statusCode === 413, `${n}: ${res.statusCode}`);
      if (res.statusCode === 400) assert.equal(res.json().code, 'invalid_body');
    }
  });

  test('over a real socket: a chunked multipart upload past the limit is answered 413, not left hanging', async () => {
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.address() as AddressInfo;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/jobs', headers: mpHeaders }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(part('prompt', 'a'));
      let sent = 0;
      const pump = () => {
        // Keep sending until the server has answered (it drains the rest) or far past the limit.
        while (sent < 512 * 1024 && req.write(filePart('init_image', Buffer.alloc(16 * 1024, 3)))) sent += 16 * 1024;
        if (sent < 512 * 1024) req.once('drain', pump);
        else req.end(end);
      };
      pump();
    });
    assert.equal(answer.status, 413);
    assert.equal(JSON.parse(answer.body).code, 'payload_too_large');
  });
});
