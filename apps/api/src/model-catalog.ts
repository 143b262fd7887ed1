// Models found in MODELS_DIR, read once and re-read when a request names one we have not seen
// (a model copied in while the API runs), at most every few seconds.
import { listModels, type ModelInfo } from '@sdsvc/engine/model-info';

export class ModelCatalog {
  readonly #dir: string;
  #models: Promise<ModelInfo[]> | null = null;
  #loadedAt = 0;

  constructor(modelsDir: string) {
    this.#dir = modelsDir;
  }

  async list(): Promise<ModelInfo[]> {
    if (!this.#models) {
      this.#loadedAt = Date.now();
      this.#models = listModels(this.#dir);
      this.#models.catch(() => { this.#models = null; });
    }
    return await this.#models;
  }

  async get(id: string): Promise<ModelInfo | null> {
    let found = (await this.list()).find((m) => m.id === id);
    if (!found && Date.now() - this.#loadedAt > 5000) {
      this.#models = null;
      found = (await this.list()).find((m) => m.id === id);
    }
    return found ?? null;
  }
}
