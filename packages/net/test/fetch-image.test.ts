import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  assertPublicUrl, fetchImage, HostLookupError, ImageFetchError, ImageTooLargeError, safeRequest, UrlNotAllowedError,
} from '../src/index.ts';

let server: Server;
let base: string;
const png = Buffer.alloc(2000, 7);

before(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/img.png') { res.writeHead(200, { 'content-type': 'image/png' }); res.end(png); return; }
    if (path === '/chunked') { // no content-length: the cap applies while streaming
      res.writeHead(200, { 'content-type': 'image/png' });
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000));
      res.end();
      return;
    }
    const hop = /^\/hop\/(\d+)$/.exec(path);
    if (hop) { const n = Number(hop[1]); res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : '/img.png' }); res.end(); return; }
    if (path === '/to-ftp') { res.writeHead(301, { location: 'ftp://example.com/x.png' }); res.end(); return; }
    if (path === '/slow') { res.writeHead(200); res.write('x'); return; } // never ends
    res.writeHead(404); res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

const opts = { maxBytes: 5000, timeoutMs: 5000, allowPrivate: true };

test('loopback is reachable only with allowPrivate', async () => {
  const got = await fetchImage(`${base}/img.png`, opts);
  assert.deepEqual(got.body, png);
  assert.equal(got.contentType, 'image/png');
  await assert.rejects(fetchImage(`${base}/img.png`, { ...opts, allowPrivate: false }), UrlNotAllowedError);
});

test('https only without allowPrivate; literal private and metadata addresses refused', async () => {
  await assert.rejects(assertPublicUrl('http://93.184.216.34/x.png'), /protocol http:/);
  for (const url of ['https://127.0.0.1/', 'https://[::1]/', 'https://169.254.169.254/latest/meta-data', 'https://[fd00:ec2::254]/',
    'https://10.0.0.1/', 'https://[::ffff:127.0.0.1]/', 'https://0.0.0.0/', 'https://100.64.1.1/', 'https://[fe80::1]/', 'https://localhost/']) {
    await assert.rejects(assertPublicUrl(url), (e) => e instanceof UrlNotAllowedError && e.code === 'url_not_allowed', url);
  }
  const ok = await assertPublicUrl('https://93.184.216.34/x.png');
  assert.deepEqual(ok.addresses, [{ address: '93.184.216.34', family: 4 }]);
  await assert.rejects(assertPublicUrl('https://user:pw@93.184.216.34/'), UrlNotAllowedError);
  await assert.rejects(assertPublicUrl('not a url'), UrlNotAllowedError);
});

test('a host resolving to any private address is refused', async () => {
  const resolve = async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.5', family: 4 }];
  // The client-facing message names the kind of address, never the address (kept on the error for logs).
  await assert.rejects(assertPublicUrl('https://mixed.test/?token=t0k', { resolve }), (err: UrlNotAllowedError) =>
    /resolves to a private address/.test(err.message) && !err.message.includes('10.0.0.5') && !err.message.includes('t0k') && err.address === '10.0.0.5');
  await assert.rejects(assertPublicUrl('https://nx.test/', { resolve: async () => { throw new Error('ENOTFOUND'); } }), HostLookupError);
});

test('DNS rebinding: the connect-time lookup is checked again', async () => {
  let calls = 0;
  const resolve = async () => (++calls === 1 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
  await assert.rejects(safeRequest('https://rebind.test/', { resolve, timeoutMs: 2000 }), UrlNotAllowedError);
  assert.equal(calls, 2);
});

test('redirects are followed up to 3, each re-checked', async () => {
  assert.deepEqual((await fetchImage(`${base}/hop/2`, opts)).body, png);
  await assert.rejects(fetchImage(`${base}/hop/3`, opts), (e) => e instanceof ImageFetchError && /more than 3 redirects/.test(e.message));
  await assert.rejects(fetchImage(`${base}/to-ftp`, opts), UrlNotAllowedError);
});

test('byte cap: declared and streamed', async () => {
  await assert.rejects(fetchImage(`${base}/img.png`, { ...opts, maxBytes: 1000 }), (e) => e instanceof ImageTooLargeError && e.code === 'image_too_large');
  await assert.rejects(fetchImage(`${base}/chunked`, { ...opts, maxBytes: 5000 }), ImageTooLargeError);
  assert.equal((await fetchImage(`${base}/chunked`, { ...opts, maxBytes: 10000 })).body.length, 10000);
});

test('HTTP errors and timeouts are image_fetch_failed', async () => {
  await assert.rejects(fetchImage(`${base}/missing`, opts), (e) => e instanceof ImageFetchError && e.code === 'image_fetch_failed' && e.status === 404);
  await assert.rejects(fetchImage(`${base}/slow`, { ...opts, timeoutMs: 200 }), (e) => e instanceof ImageFetchError && /timed out/.test(e.message));
  const port = Number(new URL(base).port);
  await assert.rejects(fetchImage(`http://127.0.0.1:${port === 1 ? 2 : 1}/x`, opts), ImageFetchError);
});
