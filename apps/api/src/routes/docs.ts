// The API's documentation: the repository's openapi.yaml (generated from the zod contracts) as
// YAML and JSON, and Swagger UI at /docs with its assets from the npm package (works offline).
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { parse } from 'yaml';

/** openapi.yaml at the repository root (also in the Docker images: they copy the whole tree). */
export const OPENAPI_PATH = new URL('../../../../openapi.yaml', import.meta.url);

export async function docsRoutes(app: FastifyInstance, opts: { specPath?: URL | string } = {}): Promise<void> {
  const yaml = await readFile(opts.specPath ?? OPENAPI_PATH, 'utf8');
  const document = parse(yaml) as Record<string, unknown>;
  const json = JSON.stringify(document);

  app.get('/openapi.yaml', { schema: { hide: true } }, async (_req, reply) => reply.type('application/yaml; charset=utf-8').send(yaml));
  app.get('/openapi.json', { schema: { hide: true } }, async (_req, reply) => reply.type('application/json; charset=utf-8').send(json));

  // Static mode: the UI shows the same document; nothing is generated from these routes.
  // @ts-expect-error openapi-types' Document does not accept a plain parsed object; it is one.
  await app.register(swagger, { mode: 'static', specification: { document } });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: false },
    staticCSP: true,
  });
}
