// The key ring: API_KEYS, ADMIN_API_KEYS and API_KEYS_FILE lines, digests only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRing, parseKeysFile, sha256 } from '../src/plugins/key-ring.ts';

const hex = (k: string) => sha256(k).toString('hex');

test('keys file: name:sha256[:admin] lines, comments and blanks; errors name line numbers only', () => {
  const keys = parseKeysFile(`# comment\n\n alice : ${hex('a')} \nops:${hex('o').toUpperCase()}:admin\r\n`);
  assert.deepEqual(keys.map((k) => [k.name, k.admin]), [['alice', false], ['ops', true]]);
  assert.throws(() => parseKeysFile(`ok:${hex('x')}\nbad:abc\nsecret-looking-line\nx:${hex('y')}:root\n`), (err: Error) =>
    /lines 2, 3, 4/.test(err.message) && !err.message.includes('secret-looking-line'));
});

test('the same key has the same caller id from any source; names never contain the key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keyring-'));
  try {
    const file = join(dir, 'keys');
    await writeFile(file, `svc:${hex('shared-key')}\n`);
    const fromFile = await KeyRing.open({ apiKeysFile: file });
    const fromEnv = await KeyRing.open({ apiKeys: ['shared-key'] });
    assert.equal(fromFile.lookup('shared-key')?.callerId, fromEnv.lookup('shared-key')?.callerId);
    assert.equal(fromFile.lookup('shared-key')?.name, 'svc');
    assert.match(fromEnv.lookup('shared-key')!.name, /^key-[0-9a-f]{8}$/);
    assert.equal(fromEnv.lookup('other'), null);
    const admin = await KeyRing.open({ apiKeys: ['k'], adminApiKeys: ['root-key'] });
    assert.equal(admin.lookup('root-key')?.admin, true);
    assert.equal(admin.lookup('k')?.admin, false);
    assert.equal((await KeyRing.open({})).enabled, false);
    await writeFile(file, '');
    assert.equal((await KeyRing.open({ apiKeysFile: file })).enabled, true, 'an empty keys file still means auth is on (nobody gets in)');
    await assert.rejects(KeyRing.open({ apiKeysFile: join(dir, 'missing') }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
