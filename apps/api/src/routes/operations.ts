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
}

type Level = 'public' | 'admin';

/**
 * Sets the auth level (plugins/auth.ts reads `config.auth` of the matched route) of every route
 * registered later in `scope`, third-party plugins' included, unless a route sets its own.
 */
function routesAuth(scope: FastifyInstance, level: Level): void {
  scope.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { auth?: string };
    route.config = { ...config, auth: config.auth ?? level } as typeof route.config;
  });
}

/** The auth plugin's admin flag (an admin API key), when it sets one. */
const hasAdminKey = (req: FastifyRequest): boolean => (req as FastifyRequest & { isAdmin?: boolean }).isAdmin === true;

export async function operationsRoutes(app: FastifyInstance, opts: OperationsOptions): Promise<void> {
  const { deps } = opts;
  const generate = deps.queue.queue;
  // The webhook queue is read here only (counts, dashboard); it lives next to `generate`.
  const webhooks = new Queue(WEBHOOK_QUEUE, { connection: deps.redis, prefix: generate.opts.prefix });
  webhooks.on('error', () => {}); // connection errors are the command connection's, logged there
  app.addHook('onClose', async () => { await webhooks.close(); });

  // Public for the API keys: /metrics has METRICS_TOKEN, docs and the playground page hold no
  // data (the playground asks for a key and sends it with its own calls).
  await app.register(async (open) => {
    routesAuth(open, 'public');
    await open.register(metricsRoutes, {
      registry: app.metricsRegistry,
      token: deps.config.metricsToken,
      queues: [generate, webhooks].map((q) => ({ name: q.name, counts: () => q.getJobCounts() })),
    });
    await open.register(docsRoutes);
    await open.register(playgroundRoutes);
  });

  // Admins only: an admin API key when keys are configured (the auth plugin checks the level and
  // flags the request), else ADMIN_TOKEN (checked here, as no key is configured).
  const tokenIsAdmin = adminCheck(deps.config.adminToken ? [deps.config.adminToken] : []);
  const keysConfigured = deps.config.apiKeys.length > 0;
  if (keysConfigured || deps.config.adminToken) {
    await app.register(async (admin) => {
      routesAuth(admin, 'admin');
      await admin.register(adminQueuesRoutes, {
        queues: [generate, webhooks],
        isAdmin: (req) => hasAdminKey(req) || (!keysConfigured && tokenIsAdmin(presentedCredential(req))),
      });
    });
  } else {
    deps.logger.info('queue dashboard off: set ADMIN_TOKEN (or admin API keys) to serve /admin/queues');
  }
}
