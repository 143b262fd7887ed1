// PROBLEM_CODES (@sdsvc/contracts) is the single source of problem codes: every code the API source
// can emit is in it (with its status), every code in it is emitted, and real error paths answer
// only with those codes. Also: one unusable model folder never breaks listing or job submission.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InjectOptions } from 'fastify';
import { isProblemCode, PROBLEM_CODES, type ProblemCode } from '@sdsvc/contracts';
import { SCHEDULER_NAMES } from '@sdsvc/engine/schedulers';
import { createLogger } from '@sdsvc/logging';
import { MODELS_DIR, startHarness, type Harness } from './harness.ts';

const API_SRC = fileURLToPath(new URL('../src', import.meta.url));
/** Sources that raise problems: the API and the submission service its adapters share. */
const PROBLEM_SOURCES = [API_SRC, fileURLToPath(new URL('../../../packages/submission/src', import.meta.url))];
const PROMPT_ERRORS = fileURLToPath(new URL('../../../packages/prompt/src/errors.ts', import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...await sourceFiles(join(dir, e.name)));
    else if (e.name.endsWith('.ts')) out.push(join(dir, e.name));
  }
  return out;
}

/** The top-level arguments of the call whose '(' is at `open` (quotes and brackets respected). */
function callArgs(src: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0, quote = '', cur = '';
  for (let i = open + 1; i < src.length; i++) {
    const ch = src[i]!;
    if (quote) {
      cur += ch;
      if (ch === '\\') cur += src[++i] ?? '';
      else if (ch === quote) quote = '';
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') { quote = ch; cur += ch; continue; }
    if ('([{'.includes(ch)) depth++;
    if (')]}'.includes(ch)) {
      if (depth === 0) { args.push(cur.trim()); return args; }
      depth--;
    }
    if (ch === ',' && depth === 0) { args.push(cur.trim()); cur = ''; continue; }
    cur += ch;
  }
  throw new Error('unbalanced call');
}

interface Emitted { code: string; status: number | null; where: string }

/** Codes the API source passes to HttpProblem / fieldProblem / validationProblem / FRAMEWORK_CODES. */
async function emittedBySource(): Promise<Emitted[]> {
  const out: Emitted[] = [];
  for (const file of (await Promise.all(PROBLEM_SOURCES.map(sourceFiles))).flat()) {
    const src = await readFile(file, 'utf8');
    const rel = file.slice(file.indexOf('/src/') + 1);
    for (const m of src.matchAll(/\b(?:new HttpProblem|fieldProblem)\(/g)) {
      if (/^\s*(?:export )?(?:const|function|class)\b/.test(src.slice(src.lastIndexOf('\n', m.index) + 1, m.index))) continue;
      const [status, code] = callArgs(src, m.index + m[0].length - 1);
      const literalStatus = /^\d+$/.test(status ?? '') ? Number(status) : null;
      for (const lit of (code ?? '').matchAll(/'([a-z0-9_]+)'/g)) out.push({ code: lit[1]!, status: literalStatus, where: rel });
    }
    for (const m of src.matchAll(/\bvalidationProblem\(/g)) {
      if (!/=\s*\(/.test(src.slice(m.index - 3, m.index + 40))) out.push({ code: 'validation_failed', status: 400, where: rel });
    }
    for (const m of src.matchAll(/\[(\d{3}), '([a-z0-9_]+)'\]/g)) out.push({ code: m[2]!, status: Number(m[1]), where: rel });
  }
  return out;
}

/** Codes other packages raise that the API forwards as they are (PromptSyntaxError.code). */
async function forwardedCodes(): Promise<string[]> {
  const src = await readFile(PROMPT_ERRORS, 'utf8');
  const union = /export type PromptErrorCode =([^;]+);/.exec(src);
  assert.ok(union, 'PromptErrorCode not found in packages/prompt/src/errors.ts');
  return [...union[1]!.matchAll(/'([a-z0-9_]+)'/g)].map((m) => m[1]!);
}

test('every problem code in the API source is in PROBLEM_CODES, with the same status', async () => {
  const emitted = await emittedBySource();
  assert.ok(emitted.length > 30, `scanner found only ${emitted.length} problem sites`);
  for (const e of [...emitted, ...(await forwardedCodes()).map((code) => ({ code, status: 400, where: 'packages/prompt' }))]) {
    assert.ok(isProblemCode(e.code), `${e.where}: "${e.code}" is not in PROBLEM_CODES`);
    if (e.status !== null && e.code !== 'bad_request') assert.equal(e.status, PROBLEM_CODES[e.code as ProblemCode], `${e.where}: ${e.code}`);
  }
});

test('every code in PROBLEM_CODES is emitted by the API (no stale codes)', async () => {
  const used = new Set([...(await emittedBySource()).map((e) => e.code), ...await forwardedCodes()]);
  assert.deepEqual(Object.keys(PROBLEM_CODES).filter((c) => !used.has(c)), []);
});

describe('unusable model folders and scheduler names, through the app', () => {
  let h: Harness;
  let root: string;
  const logs: Array<Record<string, unknown>> = [];
  const problems: Array<{ status: number; code: string }> = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'sdsvc-api-models-'));
    await symlink(join(MODELS_DIR, 'tiny-sd15'), join(root, 'tiny-sd15'), 'dir');
    await mkdir(join(root, 'broken'));
    await writeFile(join(root, 'broken', 'model_index.json'), JSON.stringify({ _class_name: 'OnnxStableDiffusionPipeline' }));
    await mkdir(join(root, 'sdxl-base'));
    await writeFile(join(root, 'sdxl-base', 'model_index.json'), JSON.stringify({ _class_name: 'StableDiffusionXLPipeline', text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'] }));
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => { logs.push(JSON.parse(line)); } } });
    h = await startHarness({ MODELS_DIR: root }, { logger });
  });
  after(async () => {
    await h?.close();
    await rm(root, { recursive: true, force: true });
    for (const p of problems) {
      assert.ok(isProblemCode(p.code), `answered with "${p.code}", not in PROBLEM_CODES`);
      if (p.code !== 'bad_request') assert.equal(p.status, PROBLEM_CODES[p.code as ProblemCode], p.code);
    }
  });

  async function request(opts: InjectOptions & { url: string }) {
    const res = await h.app.inject(opts);
    if (String(res.headers['content-type']).startsWith('application/problem+json')) problems.push({ status: res.statusCode, code: res.json().code });
    return res;
  }

  test('each unusable folder is logged once at start (warn), with its reason', async () => {
    const skipped = logs.filter((l) => l.level === 'warn' && typeof l.model === 'string');
    assert.deepEqual(skipped.map((l) => l.model).sort(), ['broken', 'sdxl-base']);
    assert.match(String(skipped.find((l) => l.model === 'sdxl-base')!.reason), /text_encoder_2\/model\.onnx: missing/);
    await request({ method: 'GET', url: '/v1/models' });
    await request({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a', model: 'sdxl-base' } });
    assert.equal(logs.filter((l) => typeof l.model === 'string').length, 2, 'no second report');
  });

  test('GET /v1/models serves the usable models; schedulers are exactly the engine registry names', async () => {
    const res = await request({ method: 'GET', url: '/v1/models' });
    assert.equal(res.statusCode, 200, res.body);
    const { data } = res.json();
    assert.deepEqual(data.map((m: { id: string }) => m.id), ['tiny-sd15']);
    assert.deepEqual(data[0].schedulers, SCHEDULER_NAMES.filter((n) => n !== 'default'));
    assert.ok(!data[0].schedulers.includes('default'));
    assert.ok(!data[0].schedulers.includes('dpmpp_sde'));
  });

  for (const [model, reason] of [['sdxl-base', /text_encoder_2\/model\.onnx: missing/], ['broken', /text_encoder\/model\.onnx: missing/]] as const) {
    test(`a job naming the unusable "${model}" (no worker holds a usable copy) → 503 model_unavailable with the reason`, async () => {
      const res = await request({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a', model } });
      assert.equal(res.statusCode, 503, res.body);
      assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After');
      const p = res.json();
      assert.equal(p.code, 'model_unavailable');
      assert.match(p.detail, reason);
      assert.ok(!p.detail.includes(root), 'no server path in the answer');
      assert.equal(p.errors[0].path, 'model');
    });
  }

  test('the good model still takes jobs; an absent one is unknown_model', async () => {
    assert.equal((await request({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a' } })).statusCode, 202);
    const res = await request({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a', model: 'nope' } });
    assert.equal(res.json().code, 'unknown_model');
  });

  test('unknown_scheduler lists every valid name; names are the lower-case registry names', async () => {
    const valid = SCHEDULER_NAMES.filter((n) => n !== 'default');
    for (const scheduler of ['warp_drive', 'Euler_A', 'dpmpp_sde']) {
      const res = await request({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a', scheduler } });
      assert.equal(res.statusCode, 400, res.body);
      const p = res.json();
      assert.equal(p.code, 'unknown_scheduler');
      const listed = /valid schedulers: (.*)$/.exec(p.detail)?.[1]?.split(', ');
      assert.deepEqual(listed, ['default', ...valid]);
      if (scheduler === 'Euler_A') assert.match(p.detail, /did you mean "euler_a"/);
    }
    for (const scheduler of ['default', ...valid]) {
      const res = await request({ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a', scheduler } });
      assert.equal(res.statusCode, 202, `${scheduler}: ${res.body}`);
    }
  });

  test('other error paths answer with PROBLEM_CODES codes', async () => {
    const cases: Array<[InjectOptions & { url: string }, string]> = [
      [{ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a' }, headers: { 'idempotency-key': 'k'.repeat(300) } }, 'invalid_idempotency_key'],
      [{ method: 'POST', url: '/v1/jobs', payload: { prompt: 'a', webhook: { url: 'https://example.com/h' } } }, 'webhooks_not_configured'],
      [{ method: 'POST', url: '/v1/jobs', payload: { prompt: '{image:ftp://x/y.png}' } }, 'prompt_image_tag_invalid'],
      [{ method: 'GET', url: '/v1/jobs/00000000-0000-4000-8000-000000000000' }, 'job_not_found'],
      [{ method: 'POST', url: '/v1/jobs/00000000-0000-4000-8000-000000000000/cancel' }, 'job_not_found'],
      [{ method: 'GET', url: '/v1/files/x/0.png' }, 'url_invalid'],
      [{ method: 'GET', url: '/v1/nothing-here' }, 'not_found'],
    ];
    for (const [opts, code] of cases) {
      const res = await request(opts);
      assert.equal(res.json().code, code, `${opts.method} ${opts.url}: ${res.body}`);
    }
  });
});
