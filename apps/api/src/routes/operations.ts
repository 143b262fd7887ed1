// What operators and people trying the service use, besides the /v1 API: /metrics, the OpenAPI
// document and its UI (/docs), the queue dashboard (/admin/queues) and the playground (/).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Queue } from 'bullmq';
import { WEBHOOK_QUEUE } from '@sdsvc/jobs';
import type { AppDeps } from '../deps.ts';
import { adminCheck, adminQueuesRoutes, presentedCredential } from './admin-queues.ts';
import { docsRoutes } from './docs.ts';
import { metricsRoutes } from './metrics.ts';
import { playgroundRoutes } from './playground.ts';

export interface OperationsOptions {
  deps: AppDeps;
  /** Admin check of the auth plugin, when it has one; else ADMIN_TOKEN is the admin credential. */
  isAdmin?: (req: FastifyRequest) => boolean;
}

export async function operationsRoutes(app: FastifyInstance, opts: OperationsOptions): Promise<void> {
  const { deps } = opts;
  const generate = deps.queue.queue;
  // The webhook queue is read here only (counts, dashboard); it lives next to `generate`.
  const webhooks = new Queue(WEBHOOK_QUEUE, { connection: deps.redis, prefix: generate.opts.prefix });
  webhooks.on('error', () => {}); // connection errors are the command connection's, logged there
  app.addHook('onClose', async () => { await webhooks.close(); });

  await app.register(metricsRoutes, {
    registry: app.metricsRegistry,
    token: deps.config.metricsToken,
    queues: [generate, webhooks].map((q) => ({ name: q.name, counts: () => q.getJobCounts() })),
  });
  await app.register(docsRoutes);

  const tokenIsAdmin = adminCheck(deps.config.adminToken ? [deps.config.adminToken] : []);
  const isAdmin = opts.isAdmin ?? ((req: FastifyRequest) => tokenIsAdmin(presentedCredential(req)));
  if (opts.isAdmin || deps.config.adminToken) {
    await app.register(adminQueuesRoutes, { queues: [generate, webhooks], isAdmin });
  } else {
    deps.logger.info('queue dashboard off: set ADMIN_TOKEN (or admin API keys) to serve /admin/queues');
  }
  await app.register(playgroundRoutes);
}
