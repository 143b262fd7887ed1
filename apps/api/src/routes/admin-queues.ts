// The queue dashboard (bull-board) at /admin/queues for the generate and webhooks queues, for
// admins only. Browsers cannot add a Bearer header to a page load, so HTTP Basic with the admin
// key as the password (any user name) is accepted too; a 401 makes the browser ask for it.
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import { HttpProblem, sendProblem } from '../problem.ts';

export const ADMIN_QUEUES_PATH = '/admin/queues';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Checks a credential against admin secrets in constant time per secret. */
export function adminCheck(secrets: string[]): (credential: string | null) => boolean {
  const digests = secrets.map(digest);
  return (credential) => {
    if (credential === null || digests.length === 0) return false;
    const d = digest(credential);
    return digests.some((k) => timingSafeEqual(k, d));
  };
}

/**
 * bull-board's page template without its Google Fonts stylesheet, so an admin's browser asks
 * nothing of a third party (the UI falls back to system fonts). Written once per process to a
 * temporary folder; the page's scripts and styles still come from @bull-board/ui.
 */
let offlineViews: Promise<string> | undefined;
function offlineViewsDir(): Promise<string> {
  offlineViews ??= (async () => {
    // Resolved the way @bull-board/api finds it (its dependency, not ours).
    const fromApi = createRequire(createRequire(import.meta.url).resolve('@bull-board/api'));
    const ui = dirname(fromApi.resolve('@bull-board/ui/package.json'));
    const template = await readFile(join(ui, 'dist', 'index.ejs'), 'utf8');
    const dir = await mkdtemp(join(tmpdir(), 'sdsvc-bull-board-'));
    await writeFile(join(dir, 'index.ejs'), template.replace(/<link[^>]+fonts\.googleapis\.com[^>]*>/g, ''));
    return dir;
  })();
  return offlineViews;
}

export interface AdminQueuesOptions {
  /** The queues to show, asked at each dashboard request (one generate queue per model: models come and go). */
  queues: () => Promise<Queue[]>;
  /** Whether the request comes from an admin (admin API key, or ADMIN_TOKEN without keys). */
  isAdmin(req: FastifyRequest): boolean;
}

export async function adminQueuesRoutes(app: FastifyInstance, opts: AdminQueuesOptions): Promise<void> {
  // Encapsulated: this hook guards the dashboard's routes only. It answers itself: bull-board's
  // routes have their own error handler, which would turn a thrown problem into a 500.
  app.addHook('onRequest', async (req, reply) => {
    if (!opts.isAdmin(req)) {
      return sendProblem(req, reply, new HttpProblem(401, 'unauthorized', 'the queue dashboard needs an admin key (Bearer, or HTTP Basic with the key as password)', {
        headers: { 'www-authenticate': 'Basic realm="sdsvc admin", charset="UTF-8"' },
      }));
    }
  });
  const adapter = new FastifyAdapter();
  adapter.setBasePath(ADMIN_QUEUES_PATH);
  const shown = new Set<string>();
  const board = createBullBoard({ queues: [], serverAdapter: adapter, options: { uiConfig: { boardTitle: 'sdsvc queues' } } });
  const sync = async (): Promise<void> => {
    for (const q of await opts.queues()) {
      if (shown.has(q.name)) continue;
      shown.add(q.name);
      board.addQueue(new BullMQAdapter(q));
    }
  };
  await sync().catch(() => { /* Redis down at start: the next request adds them */ });
  app.addHook('preHandler', async () => { await sync().catch(() => {}); });
  adapter.setViewsPath(await offlineViewsDir());
  await app.register(adapter.registerPlugin(), { prefix: ADMIN_QUEUES_PATH });
}
