// A route constraint on the body's kind, so a route can have one handler for multipart bodies, in
// a scope with @fastify/multipart, and one for everything else, outside it: the plugin hooks every
// request of its scope (a close listener, a temp-file cleanup: ~4 % of a JSON submission's CPU)
// although only multipart requests need them.
//   app.post(url, { constraints: { bodyKind: 'multipart' } }, …)   // multipart/form-data bodies
//   app.post(url, …)                                                // every other body
import type { FastifyServerOptions } from 'fastify';

type ConstraintStrategy = NonNullable<NonNullable<FastifyServerOptions['routerOptions']>['constraints']>[string];
type Stored = ReturnType<ReturnType<ConstraintStrategy['storage']>['get']>;

const MULTIPART = /^\s*multipart\/form-data\s*(;|$)/i;

export const bodyKindConstraint: ConstraintStrategy = {
  name: 'bodyKind',
  storage() {
    const handlers = new Map<string, Stored>();
    return { get: (kind: string) => handlers.get(kind) ?? null, set: (kind: string, store: Stored) => { handlers.set(kind, store); } };
  },
  validate(value: unknown) {
    if (value !== 'multipart') throw new Error(`bodyKind constraint: 'multipart' is the only kind, not ${String(value)}`);
  },
  deriveConstraint: (req) => (MULTIPART.test(String(req.headers['content-type'] ?? '')) ? 'multipart' : 'other'),
  // A request no constrained route takes goes to the route without the constraint.
  mustMatchWhenDerived: false,
};
