// What operators and people trying the service use, besides the /v1 API: /metrics, the OpenAPI
// document and its UI (/docs), the queue dashboard (/admin/queues) and the playground (/).
import type { FastifyInstance } from 'fastify';
import { Queue } from 'bullmq';
import { generateQueueName, WEBHOOK_QUEUE } from '@sdsvc/jobs';
import type { ModelCatalog } from '@sdsvc/submission';
import type { AppDeps } from '../deps.ts';
import { presentedKey, routeAuth } from '../plugins/auth.ts';
import { adminCheck, adminQueuesRoutes } from './admin-queues.ts';
import { docsRoutes } from './docs.ts';
import { metricsRoutes } from './metrics.ts';
import { playgroundRoutes } from './playground.ts';

export interface OperationsOptions {
  deps: AppDeps;
  /** The models whose generate queues are shown (one queue per model). */
  catalog: ModelCatalog;
}

export async function operationsRoutes(app: FastifyInstance, opts: OperationsOptions): Promise<void> {
  const { deps } = opts;
  // Every model's queue: those known here (announced by workers, or in MODELS_DIR) and any this
  // process has queued jobs in.
  const generateQueues = async (): Promise<Queue[]> => {
    const models = new Set([...(await opts.catalog.list()).map((m) => m.id), ...deps.queue.models]);
    return [...models].sort().map((m) => deps.queue.queueFor(m));
  };
  // The webhook queue is read here only (counts, dashboard); it lives next to the generate queues.
  const webhooks = new Queue(WEBHOOK_QUEUE, { connection: deps.redis, prefix: deps.queue.bullPrefix });
  webhooks.on('error', () => {}); // connection errors are the command connection's, logged there
  app.addHook('onClose', async () => { await webhooks.close(); });

  // Public for the API keys: /metrics has METRICS_TOKEN, docs and the playground page hold no
  // data (the playground asks for a key and sends it with its own calls).
  await app.register(async (open) => {
    routeAuth(open, 'public');
    await open.register(metricsRoutes, {
      registry: app.metricsRegistry,
      token: deps.config.metricsToken,
      queues: async () => [...(await generateQueues()), webhooks].map((q) => ({ name: q.name, counts: () => q.getJobCounts() })),
    });
    await open.register(docsRoutes);
    await open.register(playgroundRoutes);
  });

  // Admins only: an admin API key when keys are configured (the auth plugin checks the level and
  // sets req.isAdmin), else ADMIN_TOKEN (checked here: with no key configured the API is open).
  const tokenIsAdmin = adminCheck(deps.config.adminToken ? [deps.config.adminToken] : []);
  if (app.keyRing.enabled || deps.config.adminToken) {
    await app.register(async (admin) => {
      routeAuth(admin, 'admin');
      await admin.register(adminQueuesRoutes, {
        queues: async () => [...(await generateQueues()), webhooks],
        isAdmin: (req) => req.isAdmin || (!app.keyRing.enabled && tokenIsAdmin(presentedKey(req))),
      });
    });
  } else {
    deps.logger.info('queue dashboard off: set ADMIN_TOKEN (or admin API keys) to serve /admin/queues');
  }
}
