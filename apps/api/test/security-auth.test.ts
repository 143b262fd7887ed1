// Authentication on the matched route, tenancy and admin keys, API_KEYS_FILE with SIGHUP reload.
// The protected routes are read from the app itself (every route registered after the auth
// plugin, with its level), so a route added later is covered without touching this file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@sdsvc/logging';
import { startHarness, type Harness } from './harness.ts';

const KEY = 'user-key-0123456789';
const OTHER = 'other-key-0123456789';
const ADMIN = 'admin-key-0123456789';
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

/** A concrete path for a route pattern: params and wildcards filled in. */
const concrete = (url: string) => url.replace(/:[A-Za-z0-9_]+/g, 'x1').replace(/\*/g, 'x2');

/** Not refused by the auth plugin (a route's own 403, e.g. a static file server's, is not ours). */
function authorized(res: { statusCode: number; headers: Record<string, unknown>; body: string }): boolean {
  if (res.statusCode === 401) return false;
  if (res.statusCode !== 403) return true;
  return !(/problem\+json/.test(String(res.headers['content-type'])) && /"code":"forbidden"/.test(res.body));
}

const pct = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');

/**
 * Spellings of `path`. `same` ones are the same path to the router (percent-encoding); the others
 * are different strings a careless check might treat as the path or as something else.
 */
function variants(path: string): Array<{ name: string; url: string; same: boolean }> {
  const segs = path.split('/').slice(1);
  const first = segs[0] ?? '';
  const rest = segs.slice(1).join('/');
  const join1 = (a: string) => `/${a}${rest ? `/${rest}` : ''}`;
  const out = [
    { name: 'canonical', url: path, same: true },
    { name: 'first char %-encoded', url: join1(`${pct(first.slice(0, 1))}${first.slice(1)}`), same: true },
    { name: 'first segment %-encoded', url: join1(pct(first)), same: true },
    { name: 'lower-case hex', url: join1(pct(first).toLowerCase()), same: true },
    { name: 'doubled slash (start)', url: `/${path}`, same: false },
    { name: 'doubled slash (inside)', url: path.replace(/\/(?=[^/]*$)/, '//'), same: false },
    { name: 'trailing slash', url: `${path}/`, same: false },
    { name: 'dot segment', url: `/${first}/.${rest ? `/${rest}` : ''}`, same: false },
    { name: 'dot-dot segment', url: `/${first}/zz/..${rest ? `/${rest}` : ''}`, same: false },
    { name: 'upper case', url: path.toUpperCase(), same: false },
    { name: 'encoded slash', url: `/${first}%2F${rest}`, same: false },
    { name: 'matrix param', url: `${path};x=1`, same: false },
    { name: 'query', url: `${path}?a=1`, same: true },
  ];
  return out.filter((v, i) => out.findIndex((o) => o.url === v.url) === i);
}

describe('auth on the matched route', () => {
  let h: Harness;
  before(async () => { h = await startHarness({ API_KEYS: KEY, ADMIN_API_KEYS: ADMIN, RATE_LIMIT_PER_MINUTE: '0', MAX_ACTIVE_JOBS_PER_KEY: '0' }); });
  after(async () => { await h.close(); });

  test('the route table is read from the app and covers the API', () => {
    const routes = h.app.authRoutes();
    const has = (m: string, u: string) => routes.some((r) => r.method === m && r.url === u);
    assert.ok(has('POST', '/v1/jobs') && has('GET', '/v1/jobs/:id') && has('GET', '/v1/jobs/:id/events') && has('POST', '/v1/jobs/:id/cancel') && has('GET', '/v1/models'));
    const level = (m: string, u: string) => routes.find((r) => r.method === m && r.url === u)?.auth;
    assert.equal(level('GET', '/healthz'), 'public');
    assert.equal(level('GET', '/readyz'), 'public');
    assert.equal(level('GET', '/v1/files/*'), 'public');
    assert.equal(level('POST', '/v1/jobs'), 'key');
  });

  test('every protected route × every path variant: 401 without a key, a wrong key or a malformed header; authorized with one', async () => {
    // 'self' routes (the compatibility adapters) check credentials themselves: held to the same rule.
    const protectedRoutes = h.app.authRoutes().filter((r) => r.auth === 'key' || r.auth === 'admin' || r.auth === 'self');
    assert.ok(protectedRoutes.length >= 6, `only ${protectedRoutes.length} protected routes found`);
    let checked = 0;
    for (const r of protectedRoutes) {
      const path = concrete(r.url);
      const key = r.auth === 'admin' ? ADMIN : KEY;
      const canonical = await h.app.inject({ method: r.method as 'GET', url: path, headers: bearer(key) });
      assert.ok(authorized(canonical), `${r.method} ${path} with a key: ${canonical.statusCode} ${canonical.body.slice(0, 200)}`);
      for (const v of variants(path)) {
        for (const headers of [{}, bearer('wrong-key'), { authorization: `Basic ${Buffer.from('u:wrong').toString('base64')}` }, { authorization: 'Bearer' }, { authorization: `bearer  ${KEY}x` }]) {
          const res = await h.app.inject({ method: r.method as 'GET', url: v.url, headers });
          assert.equal(res.statusCode, 401, `${r.method} ${v.url} (${v.name}) ${JSON.stringify(headers)} → ${res.statusCode} ${res.body.slice(0, 200)}`);
          checked++;
          if (r.auth === 'self') continue; // adapters answer in their own protocol's error shape
          if (r.method !== 'HEAD') assert.equal(res.json().code, 'unauthorized');
          assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        }
        const ok = await h.app.inject({ method: r.method as 'GET', url: v.url, headers: bearer(key) });
        assert.ok(authorized(ok), `${r.method} ${v.url} (${v.name}) with a key → ${ok.statusCode}`);
        // Spellings the router reads as the same path answer the same; the others are the router's
        // business (usually 404), as long as the key is what let them through.
        if (v.same) assert.equal(ok.statusCode, canonical.statusCode, `${r.method} ${v.url} (${v.name}) answers like ${path}`);
      }
    }
    console.log(`auth matrix: ${protectedRoutes.length} protected routes, ${checked} unauthenticated requests, all 401`);
  });

  test('the percent-encoded /v1/jobs of the issue no longer creates a job without a key', async () => {
    const before = await h.redis.keys('t:job:*');
    const res = await h.app.inject({ method: 'POST', url: '/%76%31/jobs', payload: { prompt: 'sneaky' } });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(await h.redis.keys('t:job:*'), before);
    const models = await h.app.inject({ url: '/v%31/models' });
    assert.equal(models.statusCode, 401);
  });

  test('unknown paths need a key too (the 404 reveals nothing without one)', async () => {
    for (const url of ['/v1/nope', '/nope', '/v1/jobs/x/nope', '/sdapi/v1/nothing', '/admin/nothing']) {
      const anon = await h.app.inject({ url });
      assert.equal(anon.statusCode, 401, url);
      const keyed = await h.app.inject({ url, headers: bearer(KEY) });
      assert.equal(keyed.statusCode, 404, url);
    }
  });

  test('open routes stay open: probes and signed file URLs', async () => {
    assert.equal((await h.app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await h.app.inject({ url: '/readyz' })).statusCode, 200);
    const file = await h.app.inject({ url: '/v1/files/a/b.png?expires=1&sig=x' });
    assert.equal(file.statusCode, 403);
    assert.equal(file.json().code, 'url_invalid');
  });

  test('HTTP Basic with the key as password authenticates (browsers)', async () => {
    const res = await h.app.inject({ url: '/v1/models', headers: { authorization: `Basic ${Buffer.from(`anyone:${KEY}`).toString('base64')}` } });
    assert.equal(res.statusCode, 200);
  });

  test('admin routes: 401 without a key, 403 forbidden with a plain key, open to an admin key', async () => {
    const admin = h.app.authRoutes().filter((r) => r.auth === 'admin' && r.method === 'GET');
    if (admin.length === 0) return; // no admin route registered in this build
    const url = concrete(admin[0].url);
    assert.equal((await h.app.inject({ url })).statusCode, 401);
    const plain = await h.app.inject({ url, headers: bearer(KEY) });
    assert.equal(plain.statusCode, 403);
    assert.equal(plain.json().code, 'forbidden');
    assert.ok(authorized(await h.app.inject({ url, headers: bearer(ADMIN) })));
  });
});

describe('tenancy: a job belongs to the key that created it', () => {
  let h: Harness;
  before(async () => { h = await startHarness({ API_KEYS: `${KEY},${OTHER}`, ADMIN_API_KEYS: ADMIN, MAX_ACTIVE_JOBS_PER_KEY: '0' }); });
  after(async () => { await h.close(); });

  async function submit(key: string): Promise<string> {
    const res = await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer(key), payload: { prompt: 'mine' } });
    assert.equal(res.statusCode, 202, res.body);
    return res.json().id;
  }

  test('another key gets 404 on read, events and cancel, and changes nothing', async () => {
    const id = await submit(KEY);
    for (const [method, url] of [['GET', `/v1/jobs/${id}`], ['GET', `/v1/jobs/${id}/events`], ['POST', `/v1/jobs/${id}/cancel`]] as const) {
      const res = await h.app.inject({ method, url, headers: bearer(OTHER) });
      assert.equal(res.statusCode, 404, `${method} ${url}`);
      assert.equal(res.json().code, 'job_not_found');
    }
    assert.equal((await h.store.get(id))?.status, 'queued');
    assert.equal((await h.store.get(id))?.cancel_requested ?? false, false);
    const own = await h.app.inject({ url: `/v1/jobs/${id}`, headers: bearer(KEY) });
    assert.equal(own.statusCode, 200);
  });

  test('an admin key sees and cancels every key\'s jobs', async () => {
    const id = await submit(OTHER);
    assert.equal((await h.app.inject({ url: `/v1/jobs/${id}`, headers: bearer(ADMIN) })).statusCode, 200);
    const cancel = await h.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: bearer(ADMIN) });
    assert.equal(cancel.statusCode, 200);
    assert.equal(cancel.json().status, 'canceled');
  });

  test('the owner is the key\'s short digest, never the key', async () => {
    const id = await submit(KEY);
    const rec = await h.store.get(id);
    assert.equal(rec?.owner, createHash('sha256').update(KEY).digest('hex').slice(0, 16));
    const raw = JSON.stringify(await h.redis.hgetall(`t:job:${id}`));
    assert.ok(!raw.includes(KEY));
  });
});

describe('API_KEYS_FILE: name:sha256 lines, re-read on SIGHUP; names, never keys, in logs', () => {
  let h: Harness;
  let dir: string;
  let file: string;
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ match: (l: Record<string, unknown>) => boolean; resolve: () => void }> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter((s) => s.trim())) {
        const obj = JSON.parse(l) as Record<string, unknown>;
        lines.push(obj);
        for (const w of [...waiters]) if (w.match(obj)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
      }
      cb();
    },
  });
  const nextLog = (msg: RegExp) => new Promise<void>((resolve) => waiters.push({ match: (l) => msg.test(String(l.msg)), resolve }));
  const sha = (k: string) => createHash('sha256').update(k).digest('hex');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdsvc-keys-'));
    file = join(dir, 'keys');
    await writeFile(file, `# team keys\nalice:${sha('alice-secret-key')}\n\nci-bot:${sha('ci-secret-key')}:admin\n`);
    h = await startHarness({ API_KEYS_FILE: file, LOG_LEVEL: 'info' }, { logger: createLogger({ level: 'info', destination }) });
  });
  after(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('file keys authenticate; the name is logged, the key never is', async () => {
    const res = await h.app.inject({ url: '/v1/models', headers: bearer('alice-secret-key') });
    assert.equal(res.statusCode, 200);
    assert.equal((await h.app.inject({ url: '/v1/models' })).statusCode, 401);
    assert.equal((await h.app.inject({ url: '/v1/models', headers: bearer(sha('alice-secret-key')) })).statusCode, 401, 'the digest is not a key');
    assert.ok(lines.some((l) => l.key_name === 'alice'), 'a request line carries key_name');
    const text = JSON.stringify(lines);
    assert.ok(!text.includes('alice-secret-key'));
  });

  test('an :admin line makes an admin key', async () => {
    const id = (await h.app.inject({ method: 'POST', url: '/v1/jobs', headers: bearer('alice-secret-key'), payload: { prompt: 'a' } })).json().id;
    assert.equal((await h.app.inject({ url: `/v1/jobs/${id}`, headers: bearer('ci-secret-key') })).statusCode, 200);
  });

  test('SIGHUP re-reads the file: removed keys stop working, added ones start; a broken file keeps the last good keys', async () => {
    await writeFile(file, `bob:${sha('bob-secret-key')}\n`);
    const reloaded = nextLog(/API_KEYS_FILE reloaded/);
    process.kill(process.pid, 'SIGHUP');
    await reloaded;
    assert.equal((await h.app.inject({ url: '/v1/models', headers: bearer('alice-secret-key') })).statusCode, 401);
    assert.equal((await h.app.inject({ url: '/v1/models', headers: bearer('bob-secret-key') })).statusCode, 200);

    await writeFile(file, `bob:not-a-digest\n`);
    const failed = nextLog(/API_KEYS_FILE reload failed/);
    process.kill(process.pid, 'SIGHUP');
    await failed;
    assert.equal((await h.app.inject({ url: '/v1/models', headers: bearer('bob-secret-key') })).statusCode, 200);
    const failure = lines.find((l) => /reload failed/.test(String(l.msg)));
    assert.ok(!JSON.stringify(failure).includes('not-a-digest'), 'file contents stay out of the log');
  });
});
