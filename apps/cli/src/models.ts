// `npm run models -- pull <hf-repo> [--revision R] [--subfolder onnx] [--as ID] [--force]`,
// `list`, `verify ID`, `rm ID`: models in MODELS_DIR from a Hugging Face hub (HF_ENDPOINT, HF_TOKEN).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { HubError, listLocalModels, pullModel, removeModel, verifyModel, DEFAULT_HUB_URL } from '@sdsvc/model-hub';

const USAGE = `usage: npm run models -- <command>
  pull <org/repo> [--revision R] [--subfolder DIR] [--as ID] [--force]
                 download an ONNX Stable Diffusion export into MODELS_DIR/<ID> (resumable, verified, atomic)
  list           installed models (and unfinished downloads)
  verify <ID>    re-check every file against the Hub's hashes recorded at pull time
  rm <ID>        remove a model
environment: MODELS_DIR (./models), HF_ENDPOINT (${DEFAULT_HUB_URL}), HF_TOKEN`;

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** One line redrawn on a terminal; a line per 10 % otherwise (logs, CI). */
function bytesProgress(stream: NodeJS.WriteStream = process.stderr) {
  let lastTenth = -1;
  return ({ file, doneBytes, totalBytes }: { file: string; doneBytes: number; totalBytes: number }) => {
    const frac = totalBytes ? doneBytes / totalBytes : 1;
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round(frac * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${mb(doneBytes)} / ${mb(totalBytes)} ${file.slice(-40).padEnd(40)}`);
      if (doneBytes === totalBytes) stream.write('\n');
      return;
    }
    const tenth = Math.floor(frac * 10);
    if (tenth !== lastTenth) {
      lastTenth = tenth;
      stream.write(`${Math.round(frac * 100)}% ${mb(doneBytes)} / ${mb(totalBytes)} (${file})\n`);
    }
  };
}

export async function runModelsCommand(argv: string[], env: NodeJS.ProcessEnv = process.env, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { revision: { type: 'string' }, subfolder: { type: 'string' }, as: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, arg] = positionals;
  const modelsDir = resolve(env.MODELS_DIR || './models');
  const print = (line: string) => out.write(`${line}\n`);
  if (values.help || !command) { print(USAGE); return command ? 0 : 2; }

  switch (command) {
    case 'pull': {
      if (!arg || !/^[\w.-]+\/[\w.-]+$/.test(arg)) { process.stderr.write(`pull needs a repository as org/name\n${USAGE}\n`); return 2; }
      const result = await pullModel({
        repo: arg, revision: values.revision, subfolder: values.subfolder, id: values.as, force: values.force, modelsDir,
        hubUrl: env.HF_ENDPOINT || DEFAULT_HUB_URL, token: env.HF_TOKEN || undefined,
        onProgress: bytesProgress(), onLog: (m) => process.stderr.write(`${m}\n`),
      });
      print(`installed ${result.id} in ${result.dir}: ${result.files} files, ${mb(result.bytes)}${result.resumedBytes ? ` (${mb(result.resumedBytes)} resumed)` : ''}`);
      return 0;
    }
    case 'list': {
      const { models, downloads } = await listLocalModels(modelsDir);
      if (models.length === 0) print(`no models in ${modelsDir}`);
      for (const m of models) {
        const state = m.usable.ok ? `${m.usable.kind} ${m.usable.capabilities.join(',')}` : `UNUSABLE: ${m.usable.reason}`;
        print(`${m.id.padEnd(24)} ${mb(m.bytes).padStart(10)}  ${state}${m.source ? `  from ${m.source}` : ''}`);
      }
      for (const d of downloads) print(`${d.padEnd(24)} (unfinished download: run pull again to resume)`);
      return 0;
    }
    case 'verify': {
      if (!arg) { process.stderr.write(`verify needs a model id\n${USAGE}\n`); return 2; }
      const r = await verifyModel(modelsDir, arg);
      for (const n of r.notes) print(`note: ${n}`);
      for (const p of r.problems) print(`problem: ${p}`);
      print(r.ok ? `${r.id}: ok (${r.checked} files checked)` : `${r.id}: ${r.problems.length} problem(s)`);
      return r.ok ? 0 : 1;
    }
    case 'rm': {
      if (!arg) { process.stderr.write(`rm needs a model id\n${USAGE}\n`); return 2; }
      await removeModel(modelsDir, arg);
      print(`removed ${arg}`);
      return 0;
    }
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

if (import.meta.main) {
  runModelsCommand(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    process.stderr.write(`${err instanceof HubError ? err.message : (err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
