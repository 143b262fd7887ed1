import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { renderOpenApiYaml } from '../src/openapi/document.ts';
import { OPENAPI_PATH } from '../src/openapi/write.ts';

test('committed openapi.yaml matches the zod schemas (run `npm run openapi` after changing them)', () => {
  const committed = readFileSync(OPENAPI_PATH, 'utf8');
  assert.deepEqual(parse(committed), parse(renderOpenApiYaml()));
});

test('openapi.yaml is OpenAPI 3.1 and names every route', () => {
  const doc = parse(readFileSync(OPENAPI_PATH, 'utf8'));
  assert.equal(doc.openapi, '3.1.0');
  for (const p of ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events', '/v1/jobs/{id}/cancel', '/v1/files/{key}', '/v1/models', '/healthz', '/readyz']) {
    assert.ok(doc.paths[p], p);
  }
  const refs = JSON.stringify(doc).match(/#\/components\/schemas\/[A-Za-z0-9]+/g) ?? [];
  for (const r of new Set(refs)) assert.ok(doc.components.schemas[r.split('/').at(-1)!], `dangling ${r}`);
});
