// GET /v1/models
import type { FastifyInstance } from 'fastify';
import type { ModelList } from '@sdsvc/contracts';
import { limitsFor, REQUEST_SCHEDULERS, type LimitsConfig, type ModelCatalog } from '@sdsvc/submission';

export async function modelsRoutes(app: FastifyInstance, opts: { catalog: ModelCatalog; defaultModel: string; limits?: LimitsConfig }): Promise<void> {
  const limitsOf = (m: Parameters<typeof limitsFor>[1]) => {
    const l = limitsFor(opts.limits ?? {}, m);
    return { max_output_pixels: l.maxOutputPixels, max_steps: l.maxSteps, max_num_images: l.maxNumImages, job_timeout_ms: opts.limits?.jobTimeoutMs ?? null };
  };
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
      limits: limitsOf(m),
    })),
  }));
}
