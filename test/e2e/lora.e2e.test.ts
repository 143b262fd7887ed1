// A LoRA job through the real processes: API (validates, echoes params.loras) → queue → worker →
// engine thread (merges once); later jobs with the same LoRA set (by prompt tag, by URL: the cache
// key is the file's sha256) reuse the merge.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startE2eStack, type E2eStack } from '../support/e2e-stack.ts';

const KOHYA = fileURLToPath(new URL('../fixtures/lora/tiny-sd15-lora.kohya.safetensors', import.meta.url));

describe('LoRA jobs end to end', { timeout: 180_000 }, () => {
  let stack: E2eStack;
  let loraDir: string;
  let server: Server;
  let url: string;
  before(async () => {
    loraDir = await mkdtemp(join(tmpdir(), 'sdsvc-e2e-loras-'));
    await copyFile(KOHYA, join(loraDir, 'ink.safetensors'));
    // The same file by URL (the stack allows private URLs): API and worker each fetch it once.
    const body = await readFile(KOHYA);
    server = createServer((_req, res) => res.end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ink.safetensors`;
    stack = await startE2eStack({ LORA_DIR: loraDir, ALLOW_LORA_URLS: 'true', LORA_CACHE_DIR: join(loraDir, '.cache') });
  });
  after(async () => {
    await stack?.stop();
    server?.close();
    await rm(loraDir, { recursive: true, force: true });
  });

  test('three jobs with the same LoRA (name, prompt tag, URL) succeed; the worker merges it once', async () => {
    const worker = await stack.startWorker();
    const base = { prompt: 'a castle', width: 64, height: 64, steps: 2, seed: 5 };
    const a = await stack.postJob({ ...base, loras: [{ name: 'ink', scale: 0.5 }] });
    const b = await stack.postJob({ ...base, prompt: 'a castle <lora:ink:0.5>' });
    const c = await stack.postJob({ ...base, loras: [{ url, scale: 0.5 }] });
    for (const job of [a, b]) assert.deepEqual((job.params.loras as Array<{ name: string; scale: number }>).map((l) => [l.name, l.scale]), [['ink', 0.5]]);
    assert.equal((c.params.loras as Array<{ sha256: string }>)[0]!.sha256, (a.params.loras as Array<{ sha256: string }>)[0]!.sha256);
    for (const job of [a, b, c]) {
      const done = await stack.waitForJob(job.id, (j) => j.status === 'succeeded' || j.status === 'failed', `job ${job.id} done`, 60_000);
      assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    }
    const merges = worker.logs.filter((l) => String(l.msg).startsWith('lora merge:'));
    assert.equal(merges.length, 1, worker.tail(30));
    assert.match(String(merges[0]!.msg), /ink:0\.5 into tiny-sd15/);
  });
});
