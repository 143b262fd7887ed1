// GET /v1/models
import type { FastifyInstance } from 'fastify';
import type { ModelList } from '@sdsvc/contracts';
import { REQUEST_SCHEDULERS, type ModelCatalog } from '@sdsvc/submission';

export async function modelsRoutes(app: FastifyInstance, opts: { catalog: ModelCatalog; defaultModel: string }): Promise<void> {
  app.get('/v1/models', async (): Promise<ModelList> => ({
    data: (await opts.catalog.list()).map((m) => ({
      id: m.id,
      kind: m.kind,
      capabilities: m.capabilities,
      native_size: { width: m.nativeSize, height: m.nativeSize },
      size_step: m.sizeStep,
      default_scheduler: m.defaultScheduler,
      schedulers: [...REQUEST_SCHEDULERS],
      default: m.id === opts.defaultModel,
    })),
  }));
}
