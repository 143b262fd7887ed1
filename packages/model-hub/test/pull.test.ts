// `models pull/list/verify/rm` against a local server speaking the Hub's file API
// (test/support/hub-server.ts) that serves the bundled tiny model.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listLocalModels, MANIFEST_FILE, pullModel, removeModel, verifyModel } from '../src/index.ts';
import { runModelsCommand } from '../../../apps/cli/src/models.ts';
import { repoFromFolder, startHubServer, type HubServer } from '../../../test/support/hub-server.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TINY = join(ROOT, 'models/tiny-sd15');
const TOKEN = 'hf_test_token';
const REPO = 'test-org/tiny-sd15-onnx';
const UNET = 'onnx/unet/model.onnx';

let hub: HubServer;
let modelsDir: string;
const hubOpts = () => ({ hubUrl: hub.url, token: TOKEN, modelsDir });

before(async () => {
  hub = await startHubServer({
    // The export under onnx/, as many Hub repositories hold it, beside files the service does not need.
    [REPO]: await repoFromFolder(TINY, {
      prefix: 'onnx/',
      extra: { 'README.md': '# tiny', 'onnx/safety_checker/model.onnx': Buffer.alloc(64, 1), 'unet/diffusion_pytorch_model.safetensors': Buffer.alloc(32, 2) },
    }),
    'test-org/no-unet': await repoFromFolder(TINY, { skip: (p) => p.startsWith('unet/') }),
    // An export at the root with PyTorch weights beside the graphs.
    'test-org/mixed': await repoFromFolder(TINY, { extra: { 'unet/diffusion_pytorch_model.safetensors': Buffer.alloc(48, 3), 'vae_decoder/diffusion_pytorch_model.bin': Buffer.alloc(16, 4) } }),
  }, { token: TOKEN });
});
after(async () => { await hub.close(); });

describe('models pull', () => {
  before(async () => { modelsDir = await mkdtemp(join(tmpdir(), 'sdsvc-models-')); });
  after(async () => { await rm(modelsDir, { recursive: true, force: true }); });

  test('installs the export byte for byte, LFS files through the redirect, skipping what the engine does not read', async () => {
    const r = await pullModel({ ...hubOpts(), repo: REPO, subfolder: 'onnx', id: 'tiny' });
    assert.equal(r.id, 'tiny');
    assert.equal(r.dir, join(modelsDir, 'tiny'));
    const want = (await readdir(TINY, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(TINY.length + 1)).sort();
    const got = (await readdir(r.dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(r.dir.length + 1)).filter((p) => p !== MANIFEST_FILE).sort();
    assert.deepEqual(got, want, 'no safety_checker, no README');
    for (const p of want) assert.ok((await readFile(join(TINY, p))).equals(await readFile(join(r.dir, p))), p);
    assert.equal(r.files, want.length);
    assert.ok(hub.requests.some((q) => q.url.startsWith('/lfs/')), 'LFS bytes came from the redirect target');
    assert.ok(hub.requests.filter((q) => q.url.includes('/tree/')).length > 1, 'the paginated listing was followed');
    assert.ok(hub.requests.filter((q) => !q.url.startsWith('/lfs/')).every((q) => q.auth === `Bearer ${TOKEN}`), 'the token is sent');
    const manifest = JSON.parse(await readFile(join(r.dir, MANIFEST_FILE), 'utf8'));
    assert.equal(manifest.repo, REPO);
    assert.equal(manifest.files.find((f: { path: string }) => f.path === 'unet/model.onnx').sha256.length, 64);
    assert.deepEqual(await readdir(join(modelsDir, '.downloads')), [], 'nothing left in staging');
    const { models } = await listLocalModels(modelsDir);
    assert.deepEqual(models.map((m) => [m.id, m.usable.ok, m.source]), [['tiny', true, `${REPO}@main/onnx`]]);
    await assert.rejects(pullModel({ ...hubOpts(), repo: REPO, subfolder: 'onnx', id: 'tiny' }), /already installed/);
  });

  test('an export at the repository root: PyTorch weights beside the graphs are not downloaded', async () => {
    const r = await pullModel({ ...hubOpts(), repo: 'test-org/mixed' });
    assert.equal(r.id, 'mixed');
    assert.equal(await stat(join(r.dir, 'unet/diffusion_pytorch_model.safetensors')).catch(() => null), null);
    assert.equal(await stat(join(r.dir, 'vae_decoder/diffusion_pytorch_model.bin')).catch(() => null), null);
    assert.ok(!hub.requests.some((q) => q.url.includes('diffusion_pytorch_model')), 'never requested');
    assert.ok((await stat(join(r.dir, 'unet/model.onnx'))).isFile());
  });

  test('refuses a repository that is not a usable export, saying what is missing, before downloading', async () => {
    const before = hub.requests.length;
    await assert.rejects(pullModel({ ...hubOpts(), repo: REPO, id: 'root' }), (err: Error) => {
      assert.match(err.message, /missing: model_index\.json/);
      assert.match(err.message, /--subfolder onnx/);
      assert.match(err.message, /ONNX export first/);
      return true;
    });
    await assert.rejects(pullModel({ ...hubOpts(), repo: 'test-org/no-unet' }), /missing: unet\/model\.onnx, unet\/config\.json/);
    assert.ok(hub.requests.slice(before).every((q) => q.url.includes('/tree/')), 'only listings were requested');
    assert.equal(await stat(join(modelsDir, 'root')).catch(() => null), null);
    await assert.rejects(pullModel({ ...hubOpts(), repo: 'test-org/nope' }), /not found/);
    await assert.rejects(pullModel({ ...hubOpts(), token: 'hf_wrong', repo: REPO, subfolder: 'onnx', id: 'x' }), /access denied.*HF_TOKEN/);
  });

  test('an interrupted download stays invisible and resumes with a byte range', async () => {
    const unet = await readFile(join(TINY, 'unet/model.onnx'));
    const cut = Math.floor(unet.length / 3);
    hub.cutAfter.set(UNET, cut);
    await assert.rejects(pullModel({ ...hubOpts(), repo: REPO, subfolder: 'onnx', id: 'resumed' }));
    assert.equal(await stat(join(modelsDir, 'resumed')).catch(() => null), null, 'not installed');
    const listed = await listLocalModels(modelsDir);
    assert.deepEqual(listed.downloads, ['resumed']);
    assert.ok(!listed.models.some((m) => m.id === 'resumed'));

    const mark = hub.requests.length;
    const r = await pullModel({ ...hubOpts(), repo: REPO, subfolder: 'onnx', id: 'resumed' });
    assert.ok(r.resumedBytes > 0 && r.resumedBytes <= cut, `resumed ${r.resumedBytes} of the ${cut} bytes received`);
    assert.ok(hub.requests.slice(mark).some((q) => q.range === `bytes=${r.resumedBytes}-${unet.length - 1}`), 'a range request for the rest');
    assert.ok((await readFile(join(r.dir, 'unet/model.onnx'))).equals(unet));
    const rerequested = hub.requests.slice(mark).filter((q) => q.url.includes('/resolve/') && q.url.endsWith('text_encoder/model.onnx'));
    assert.equal(rerequested.length, 0, 'files finished by the first run are not downloaded again');
  });

  test('bytes that do not match the Hub\'s sha256 are discarded and nothing is installed', async () => {
    hub.corrupt.add('onnx/text_encoder/model.onnx');
    try {
      await assert.rejects(pullModel({ ...hubOpts(), repo: REPO, subfolder: 'onnx', id: 'corrupt' }), /text_encoder\/model\.onnx: sha256 \w+ does not match the Hub's LFS sha256/);
      assert.equal(await stat(join(modelsDir, 'corrupt')).catch(() => null), null);
    } finally {
      hub.corrupt.clear();
    }
    const r = await pullModel({ ...hubOpts(), repo: REPO, subfolder: 'onnx', id: 'corrupt' });
    assert.equal((await verifyModel(modelsDir, r.id)).ok, true);
  });

  test('verify finds a changed file; rm removes the model', async () => {
    const ok = await verifyModel(modelsDir, 'tiny');
    assert.deepEqual([ok.ok, ok.problems], [true, []]);
    assert.ok(ok.checked > 10);
    const file = join(modelsDir, 'tiny/tokenizer/vocab.json');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"a"', '"A"'));
    const bad = await verifyModel(modelsDir, 'tiny');
    assert.equal(bad.ok, false);
    assert.match(bad.problems.join('\n'), /tokenizer\/vocab\.json: git blob id \w+ does not match/);
    await removeModel(modelsDir, 'tiny');
    assert.equal(await stat(join(modelsDir, 'tiny')).catch(() => null), null);
    await assert.rejects(verifyModel(modelsDir, 'tiny'), /not installed/);
  });
});

describe('npm run models (the command)', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'sdsvc-models-cli-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('pull / list / verify / rm with HF_ENDPOINT, HF_TOKEN and MODELS_DIR', async () => {
    const env = { HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN, MODELS_DIR: dir };
    const lines: string[] = [];
    const out = { write: (s: string) => { lines.push(s); return true; } } as unknown as NodeJS.WritableStream;
    assert.equal(await runModelsCommand(['pull', REPO, '--subfolder', 'onnx', '--as', 'cli-tiny'], env, out), 0);
    assert.match(lines.join(''), /installed cli-tiny/);
    // The real entry point, as `npm run models -- list` runs it.
    const { stdout } = await promisify(execFile)(join(ROOT, 'scripts/node'), ['apps/cli/src/models.ts', 'list'], { cwd: ROOT, env: { ...process.env, ...env } });
    assert.match(stdout, /^cli-tiny\s+[\d.]+ MB\s+sd1 txt2img,img2img,inpaint\s+from test-org\/tiny-sd15-onnx@main\/onnx$/m);
    assert.equal(await runModelsCommand(['verify', 'cli-tiny'], env, out), 0);
    assert.equal(await runModelsCommand(['rm', 'cli-tiny'], env, out), 0);
    assert.equal(await runModelsCommand(['frobnicate'], env, out), 2);
  });
});
