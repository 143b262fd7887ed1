// LORA_DIR: ids from paths, listing from headers + streamed sha256 (no tensors held), describe()
// for checks, path rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoraId, loraDelta, LoraFormatError, LoraLibrary, sha256Hex, UnknownLoraError } from '../src/index.ts';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures/lora');

test('list, describe and the id rules', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-dir-'));
  mkdirSync(join(dir, 'styles'));
  copyFileSync(join(FIXTURES, 'tiny-sd15-lora.peft.safetensors'), join(dir, 'styles', 'pencil.safetensors'));
  writeFileSync(join(dir, 'notes.txt'), 'ignored');
  const lib = new LoraLibrary(dir);
  const [entry] = await lib.list();
  assert.deepEqual({ ...entry, file: undefined }, {
    id: 'styles/pencil', file: undefined, bytes: readFileSync(join(dir, 'styles/pencil.safetensors')).length,
    sha256: sha256Hex(readFileSync(join(dir, 'styles/pencil.safetensors'))), naming: 'peft', ranks: [2, 4], components: ['text_encoder', 'unet'], error: null,
  });
  const d = await lib.describe('styles/pencil');
  assert.equal(d.adapter.targets.length, 40);
  assert.equal(d.adapter.targets[0]!.down.data.length, 0, 'shapes only');
  assert.throws(() => loraDelta(d.adapter.targets[0]!, 1), /shapes-only/);
  await assert.rejects(lib.describe('styles/none'), UnknownLoraError);
  await assert.rejects(lib.describe('../etc/passwd'), UnknownLoraError);
  // A file replaced in place (new size and mtime) is read again.
  writeFileSync(join(dir, 'styles', 'pencil.safetensors'), 'garbage!');
  utimesSync(join(dir, 'styles', 'pencil.safetensors'), new Date(), new Date(Date.now() + 5000));
  assert.match(String((await lib.list())[0]!.error), /safetensors/);
  await assert.rejects(lib.describe('styles/pencil'), LoraFormatError);
  assert.deepEqual(await new LoraLibrary(join(dir, 'missing')).list(), []);
  for (const bad of ['', '..', 'a/../b', '/abs', 'a/', '.hidden', 'x\\y']) assert.equal(isLoraId(bad), false, bad);
  for (const good of ['ink', 'styles/ink-v2.1', 'My LoRA_3']) assert.equal(isLoraId(good), true, good);
});
