// Authentication, decided from the MATCHED ROUTE (never from the URL string, which the router
// decodes differently: `/%76%31/jobs` is `/v1/jobs`). Every route needs a key unless it says
// otherwise, and so does every unknown path (a 404 must not reveal which routes exist).
//
// How a route says otherwise (the convention every plugin/adapter uses):
//   app.get('/healthz', { config: { auth: 'public' } }, handler)   // one route
//   routeAuth(scope, 'admin')                                       // every route later registered in `scope`
//                                                                   // (and its children: third-party plugins too)
// Levels: 'public' (no key; a key, if sent and valid, still identifies the caller), 'key' (the
// default: any valid key), 'admin' (an ADMIN_API_KEYS key or an admin line of API_KEYS_FILE;
// another valid key gets 403 forbidden), 'self' (the route authenticates callers itself, e.g. with
// A1111's --api-auth credentials: open at this level, identity set when a valid key is sent). Any
// other value counts as 'key'. Without any key configured the API is open (dev mode).
//
// The key is read from `Authorization: Bearer <key>`, or the password of HTTP Basic (browsers).
// On the request: callerId (job owner / idempotency scope, '' when open), keyName (for logs),
// isAdmin (sees and cancels every key's jobs).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpProblem, sendProblem } from '../problem.ts';
import { KeyRing } from './key-ring.ts';

export type RouteAuth = 'public' | 'key' | 'admin' | 'self';

declare module 'fastify' {
  interface FastifyRequest {
    /** Short hash of the caller's key ('' without auth): job owner, idempotency scope, rate-limit key. */
    callerId: string;
    /** Name of the caller's key ('' without auth): safe to log. */
    keyName: string;
    /** Admin key: sees and cancels every job. */
    isAdmin: boolean;
  }
  interface FastifyContextConfig {
    /** Who may call the route: a RouteAuth, default 'key' (see plugins/auth.ts). Typed string so adapters can declare it too. */
    auth?: string;
  }
  interface FastifyInstance {
    /** The accepted keys (reload() re-reads API_KEYS_FILE; SIGHUP does it too). */
    keyRing: KeyRing;
    /** Every route registered after the auth plugin, with its effective level (tests, docs). */
    authRoutes(): ReadonlyArray<{ method: string; url: string; auth: RouteAuth }>;
  }
}

/**
 * Marks every route registered later in `scope` (and its child plugins) with `level` (or the level
 * `level(url)` gives), unless the route sets its own.
 */
export function routeAuth(scope: FastifyInstance, level: RouteAuth | ((url: string) => RouteAuth)): void {
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, auth: route.config?.auth ?? (typeof level === 'function' ? level(route.url) : level) };
  });
}

const LEVELS: readonly string[] = ['public', 'key', 'admin', 'self'];
/** A route's level; unknown values are 'key' (fail closed). */
export const levelOf = (auth: string | undefined): RouteAuth => (auth !== undefined && LEVELS.includes(auth) ? auth as RouteAuth : 'key');

/** The secret a request presents: a Bearer token, or the password of HTTP Basic. */
export function presentedKey(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h);
  if (!basic) return null;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : null;
}

/** Kept for callers of the old name. */
export const bearerToken = presentedKey;

const unauthorized = () => new HttpProblem(401, 'unauthorized', 'a valid Authorization: Bearer <key> header is required', {
  headers: { 'www-authenticate': 'Bearer' },
});

export interface AuthOptions {
  apiKeys: string[];
  adminApiKeys?: string[];
  apiKeysFile?: string;
  /** Reload API_KEYS_FILE on SIGHUP (default true when a file is configured). */
  reloadOnSighup?: boolean;
}

export const authPlugin = fp(async (app: FastifyInstance, opts: AuthOptions) => {
  const ring = await KeyRing.open({ apiKeys: opts.apiKeys, adminApiKeys: opts.adminApiKeys, apiKeysFile: opts.apiKeysFile });
  app.decorate('keyRing', ring);
  app.decorateRequest('callerId', '');
  app.decorateRequest('keyName', '');
  app.decorateRequest('isAdmin', false);

  // The route options objects themselves: a scope's routeAuth() hook may set the level after ours ran.
  const routes: Array<{ method: string | string[]; url: string; config?: { auth?: string } }> = [];
  app.addHook('onRoute', (route) => { routes.push(route); });
  app.decorate('authRoutes', () => routes.flatMap((r) => [r.method].flat().map((method) => ({ method, url: r.url, auth: levelOf(r.config?.auth) }))));

  if (ring.file !== undefined && opts.reloadOnSighup !== false) {
    const onHup = () => {
      ring.reload().then(
        (n) => app.log.info({ keys: n }, 'API_KEYS_FILE reloaded'),
        (err: Error) => app.log.error({ err: err.message }, 'API_KEYS_FILE reload failed; the previous keys stay'),
      );
    };
    process.on('SIGHUP', onHup);
    app.addHook('onClose', async () => { process.off('SIGHUP', onHup); });
  }
  if (!ring.enabled) return;

  app.addHook('onRequest', async (req, reply) => {
    // Unknown paths need a key too, so a 404 tells an anonymous caller nothing.
    const level: RouteAuth = req.is404 ? 'key' : levelOf(req.routeOptions.config?.auth);
    const secret = presentedKey(req);
    const key = secret === null ? null : ring.lookup(secret);
    if (key) {
      req.callerId = key.callerId;
      req.keyName = key.name;
      req.isAdmin = key.admin;
      req.log = req.log.child({ key_name: key.name });
      reply.log = req.log; // "request completed" names the key too
    }
    if (level === 'public' || level === 'self') return;
    // Answered here rather than thrown: a third-party plugin's own error handler (bull-board's)
    // would turn a thrown problem into its 500.
    if (!key) return sendProblem(req, reply, unauthorized());
    if (level === 'admin' && !key.admin) return sendProblem(req, reply, new HttpProblem(403, 'forbidden', 'this route needs an admin key'));
  });
}, { name: 'auth' });
