// The models the API knows: those the workers announce in the registry (worker-directory.ts), and
// the folders of MODELS_DIR when it is mounted here too (a single host). The folders are read once
// and re-read when a request names one we have not seen (a model copied in while the API runs), at
// most every few seconds. A folder that cannot be used (incomplete export, bad JSON) is kept as a
// problem: reported once through `onProblem`, answered as model_unavailable when a request names it
// and no worker holds a usable copy, and never hides the usable models.
import type { ModelAnnouncement } from '@sdsvc/jobs';
import { scanModels, type ModelInfo, type ModelProblem, type ModelScan } from '@sdsvc/engine/model-info';
import { SCHEDULER_NAMES } from '@sdsvc/engine/schedulers';
import type { WorkerDirectory } from './worker-directory.ts';

/** Scheduler names a request may send (besides `default`): exactly the engine registry's stable names. */
export const REQUEST_SCHEDULERS: readonly string[] = SCHEDULER_NAMES.filter((n) => n !== 'default');

export interface ModelCatalogOptions {
  /** Called once per (folder, reason) the first time a scan finds it unusable. */
  onProblem?: (problem: ModelProblem) => void;
  /** The worker registry's models; without it only MODELS_DIR counts and every model is "held". */
  workers?: WorkerDirectory;
}

/** An announced model as the API uses it: no folder here (dir ''), so nothing reads its files. */
function announcedInfo(m: ModelAnnouncement): ModelInfo {
  return { ...(m.info as unknown as ModelInfo), id: m.id, dir: '' };
}

export class ModelCatalog {
  readonly #dir: string;
  readonly #onProblem: ((problem: ModelProblem) => void) | undefined;
  readonly #reported = new Set<string>();
  readonly #workers: WorkerDirectory | undefined;
  #scan: Promise<ModelScan> | null = null;
  #loadedAt = 0;

  constructor(modelsDir: string, opts: ModelCatalogOptions = {}) {
    this.#dir = modelsDir;
    this.#onProblem = opts.onProblem;
    this.#workers = opts.workers;
  }

  /** The current scan of MODELS_DIR (usable models and problems). Throws only when it is unreadable. */
  async scan(): Promise<ModelScan> {
    if (!this.#scan) {
      this.#loadedAt = Date.now();
      const scan = scanModels(this.#dir);
      this.#scan = scan;
      scan.then((s) => this.#report(s.problems), () => { if (this.#scan === scan) this.#scan = null; });
    }
    return await this.#scan;
  }

  /** Every usable model: MODELS_DIR's folders (when readable here) and the announced ones, by id. */
  async list(): Promise<ModelInfo[]> {
    const byId = new Map<string, ModelInfo>();
    for (const m of this.#workers?.announced() ?? []) byId.set(m.id, announcedInfo(m));
    for (const m of await this.#local()) byId.set(m.id, m); // a local folder: its files can be read here
    return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The usable model `id`, or null (see `problem(id)` for why a folder of that name is unusable). */
  async get(id: string): Promise<ModelInfo | null> {
    let found = (await this.#local()).find((m) => m.id === id);
    if (!found && Date.now() - this.#loadedAt > 5000) {
      this.#scan = null;
      found = (await this.#local()).find((m) => m.id === id);
    }
    if (found) return found;
    let announced = this.#workers?.announced().find((m) => m.id === id);
    if (!announced && this.#workers) {
      await this.#workers.reread(); // announced since the last reading?
      announced = this.#workers.announced().find((m) => m.id === id);
    }
    return announced ? announcedInfo(announced) : null;
  }

  /** Live workers holding `id` per the registry's last reading; null without a registry. */
  liveWorkers(id: string): number | null {
    return this.#workers ? this.#workers.workersFor(id) : null;
  }

  /** As liveWorkers, re-reading the registry first when the last reading says none. */
  async confirmLiveWorkers(id: string): Promise<number | null> {
    return this.#workers ? await this.#workers.confirmWorkersFor(id) : null;
  }

  /** The execution providers `id`'s graphs run on in the live workers that have loaded it. */
  providersOf(id: string): string[] {
    const used = new Set<string>();
    for (const w of this.#workers?.workers ?? []) {
      for (const m of w.models) if (m.id === id) for (const p of Object.values(m.execution_providers ?? {})) used.add(p);
    }
    return [...used].sort();
  }

  /** What a worker announced about the export of `id` (creation time, hash), if any did. */
  announcement(id: string): ModelAnnouncement | undefined {
    return this.#workers?.announced().find((m) => m.id === id);
  }

  /** MODELS_DIR's usable models; none when the folder is absent or unreadable (registry only). */
  async #local(): Promise<ModelInfo[]> {
    if (!this.#workers) return (await this.scan()).models;
    return await this.scan().then((s) => s.models, () => []);
  }

  /** Why the folder `id` is not usable, from the last scan; undefined when it is fine or absent. */
  async problem(id: string): Promise<ModelProblem | undefined> {
    return (await this.scan().catch(() => null))?.problems.find((p) => p.id === id);
  }

  #report(problems: ModelProblem[]): void {
    for (const p of problems) {
      const key = `${p.id}\0${p.message}`;
      if (this.#reported.has(key)) continue;
      this.#reported.add(key);
      this.#onProblem?.(p);
    }
  }
}
