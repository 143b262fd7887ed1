// LoRAs by URL: fetched once, kept as <sha256>.safetensors, read from disk when the sha256 is known,
// refused when the content changed or is not a LoRA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoraFormatError, LoraUrlCache, sha256Hex, UnknownLoraError } from '../src/index.ts';

const KOHYA = readFileSync(join(import.meta.dirname, '../../../test/fixtures/lora/tiny-sd15-lora.kohya.safetensors'));

test('fetched once, then served from the disk copy by sha256', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-url-'));
  let fetches = 0;
  let body: Uint8Array = KOHYA;
  const cache = new LoraUrlCache(dir, async () => { fetches++; return body; });
  const first = await cache.load('https://example.com/ink.safetensors');
  assert.equal(first.sha256, sha256Hex(KOHYA));
  assert.equal(first.adapter.naming, 'kohya');
  assert.deepEqual(readdirSync(dir), [`${first.sha256}.safetensors`]);
  const again = await cache.load('https://example.com/ink.safetensors', first.sha256);
  assert.equal(fetches, 1);
  assert.equal(again.file, first.file);
  // Another process without the copy fetches; changed content is refused.
  const other = new LoraUrlCache(mkdtempSync(join(tmpdir(), 'lora-url-')), async () => { fetches++; return body; });
  body = new Uint8Array([...KOHYA.subarray(0, -1), 0]);
  await assert.rejects(other.load('https://example.com/ink.safetensors', first.sha256), (e: unknown) => e instanceof UnknownLoraError && /changed after the job was submitted/.test(e.message));
  assert.equal(fetches, 2);
});

test('a body that is not a LoRA is refused and not kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-url-'));
  const cache = new LoraUrlCache(dir, async () => new TextEncoder().encode('<html>not found</html>'));
  await assert.rejects(cache.load('https://example.com/x'), (e: unknown) => e instanceof LoraFormatError && /LoRA "https:\/\/example.com\/x"/.test(e.message));
  assert.deepEqual(readdirSync(dir), []);
});
