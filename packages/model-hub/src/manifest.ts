// .sdsvc-model.json in an installed model folder: where it came from and what each file must hash
// to, so `models verify` can check it later without the network.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MANIFEST_FILE = '.sdsvc-model.json';

export interface ModelManifest {
  repo: string;
  revision: string;
  subfolder: string;
  hubUrl: string;
  installedAt: string;
  files: Array<{ path: string; size: number; sha256?: string; gitOid?: string }>;
}

export async function readManifest(dir: string): Promise<ModelManifest | null> {
  try {
    return JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as ModelManifest;
  } catch {
    return null;
  }
}

export async function writeManifest(dir: string, m: ModelManifest): Promise<void> {
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(m, null, 2)}\n`);
}
