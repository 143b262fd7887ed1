// GET /v1/models: our model fields, in the shape of an OpenAI model list (object, created,
// owned_by) so OpenAI clients can list and pick models too, with how many live workers hold each.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ModelList } from '@sdsvc/contracts';
import { limitsFor, REQUEST_SCHEDULERS, type LimitsConfig, type ModelCatalog } from '@sdsvc/submission';

/** Unix seconds of the folder's model_index.json (0 when it cannot be read). */
async function createdAt(dir: string): Promise<number> {
  return await stat(join(dir, 'model_index.json')).then((s) => Math.floor(s.mtimeMs / 1000), () => 0);
}

export interface ModelsRoutesOptions {
  catalog: ModelCatalog;
  defaultModel: string;
  limits?: LimitsConfig;
  /** QUEUE_WITHOUT_WORKERS: every listed model takes jobs. */
  queueWithoutWorkers?: boolean;
}

export async function modelsRoutes(app: FastifyInstance, opts: ModelsRoutesOptions): Promise<void> {
  const limitsOf = (m: Parameters<typeof limitsFor>[1]) => {
    const l = limitsFor(opts.limits ?? {}, m);
    return { max_output_pixels: l.maxOutputPixels, max_steps: l.maxSteps, max_num_images: l.maxNumImages, job_timeout_ms: opts.limits?.jobTimeoutMs || null }; // 0: no deadline
  };
  app.get('/v1/models', { config: { auth: 'key' } }, async (): Promise<ModelList> => ({
    object: 'list',
    data: await Promise.all((await opts.catalog.list()).map(async (m) => {
      const live = opts.catalog.liveWorkers(m.id); // null: no registry (every model counts as held)
      const workers = live ?? 0;
      return {
        id: m.id,
        object: 'model' as const,
        // A folder mounted here, else what the workers announced about their copy.
        created: m.dir ? await createdAt(m.dir) : opts.catalog.announcement(m.id)?.created ?? 0,
        owned_by: 'sdsvc',
        kind: m.kind,
        capabilities: m.capabilities,
        native_size: { width: m.nativeSize, height: m.nativeSize },
        size_step: m.sizeStep,
        default_scheduler: m.defaultScheduler,
        schedulers: [...REQUEST_SCHEDULERS],
        default: m.id === opts.defaultModel,
        limits: limitsOf(m),
        workers,
        execution_providers: opts.catalog.providersOf(m.id),
        available: live === null || live > 0 || opts.queueWithoutWorkers === true,
      };
    })),
  }));
}
