// GET /v1/workers: the live workers as registered in Redis (models held, the providers their graphs
// run on, capabilities). Admins only when API keys are configured. Read fresh at each call.
import type { FastifyInstance } from 'fastify';
import type { WorkerList } from '@sdsvc/contracts';
import type { WorkerDirectory } from '@sdsvc/submission';

export async function workersRoutes(app: FastifyInstance, opts: { workers: WorkerDirectory }): Promise<void> {
  app.get('/v1/workers', { config: { auth: 'admin' } }, async (): Promise<WorkerList> => {
    const { workers } = await opts.workers.refresh(); // a Redis error answers 503 store_unavailable
    return {
      object: 'list',
      data: workers.map((w) => ({
        id: w.id, host: w.host, pid: w.pid, started_at: w.started_at,
        models: w.models.map((m) => ({ id: m.id, execution_providers: m.execution_providers ?? {} })),
        capabilities: w.capabilities,
      })),
    };
  });
}
