// Models found in MODELS_DIR, read once and re-read when a request names one we have not seen
// (a model copied in while the API runs), at most every few seconds. A folder that cannot be used
// (incomplete export, bad JSON) is kept as a problem: reported once through `onProblem`, answered as
// model_unavailable when a request names it, and never hides the usable models.
import { scanModels, type ModelInfo, type ModelProblem, type ModelScan } from '@sdsvc/engine/model-info';
import { SCHEDULER_NAMES } from '@sdsvc/engine/schedulers';

/** Scheduler names a request may send (besides `default`): exactly the engine registry's stable names. */
export const REQUEST_SCHEDULERS: readonly string[] = SCHEDULER_NAMES.filter((n) => n !== 'default');

export interface ModelCatalogOptions {
  /** Called once per (folder, reason) the first time a scan finds it unusable. */
  onProblem?: (problem: ModelProblem) => void;
}

export class ModelCatalog {
  readonly #dir: string;
  readonly #onProblem: ((problem: ModelProblem) => void) | undefined;
  readonly #reported = new Set<string>();
  #scan: Promise<ModelScan> | null = null;
  #loadedAt = 0;

  constructor(modelsDir: string, opts: ModelCatalogOptions = {}) {
    this.#dir = modelsDir;
    this.#onProblem = opts.onProblem;
  }

  /** The current scan (usable models and problems). Throws only when MODELS_DIR is unreadable. */
  async scan(): Promise<ModelScan> {
    if (!this.#scan) {
      this.#loadedAt = Date.now();
      const scan = scanModels(this.#dir);
      this.#scan = scan;
      scan.then((s) => this.#report(s.problems), () => { if (this.#scan === scan) this.#scan = null; });
    }
    return await this.#scan;
  }

  async list(): Promise<ModelInfo[]> {
    return (await this.scan()).models;
  }

  /** The usable model `id`, or null (see `problem(id)` for why a folder of that name is unusable). */
  async get(id: string): Promise<ModelInfo | null> {
    let found = (await this.list()).find((m) => m.id === id);
    if (!found && Date.now() - this.#loadedAt > 5000) {
      this.#scan = null;
      found = (await this.list()).find((m) => m.id === id);
    }
    return found ?? null;
  }

  /** Why the folder `id` is not usable, from the last scan; undefined when it is fine or absent. */
  async problem(id: string): Promise<ModelProblem | undefined> {
    return (await this.scan()).problems.find((p) => p.id === id);
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
