// The web playground: plain HTML, CSS and JS from apps/api/playground, served as they are (no
// build step). Only the files present at start are routes (no wildcard), so unknown paths stay
// ordinary 404 problems.
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

export const PLAYGROUND_DIR = fileURLToPath(new URL('../../playground/', import.meta.url));

export async function playgroundRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: PLAYGROUND_DIR,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    cacheControl: false,
    setHeaders: (res) => { res.header('cache-control', 'no-cache'); },
  });
}
