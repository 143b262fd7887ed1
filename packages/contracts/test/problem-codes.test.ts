// openapi.yaml documents every PROBLEM_CODES entry: as the Problem.code enum and on the routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { PROBLEM_CODES, Problem } from '../src/index.ts';
import { ROUTE_PROBLEMS } from '../src/openapi/document.ts';
import { OPENAPI_PATH } from '../src/openapi/write.ts';

const ALL = Object.keys(PROBLEM_CODES).sort();

test('Problem.code is the PROBLEM_CODES enum', () => {
  const doc = parse(readFileSync(OPENAPI_PATH, 'utf8'));
  assert.deepEqual([...doc.components.schemas.Problem.properties.code.enum].sort(), ALL);
  assert.ok(Problem.safeParse({ type: 't', title: 'x', status: 400, code: 'validation_failed' }).success);
  assert.ok(!Problem.safeParse({ type: 't', title: 'x', status: 400, code: 'prompt_syntax' }).success);
});

test('every code is documented on a route, under its status', () => {
  const doc = parse(readFileSync(OPENAPI_PATH, 'utf8'));
  const documented = new Map<string, Set<number>>();
  for (const item of Object.values(doc.paths) as Array<Record<string, { responses: Record<string, { description: string }> }>>) {
    for (const op of Object.values(item)) {
      for (const [status, res] of Object.entries(op.responses)) {
        const m = /^Problem codes: (.*)$/.exec(res.description);
        for (const code of m?.[1]?.split(', ') ?? []) {
          if (!documented.has(code)) documented.set(code, new Set());
          documented.get(code)!.add(Number(status));
        }
      }
    }
  }
  assert.deepEqual([...documented.keys()].sort(), ALL);
  for (const [code, statuses] of documented) assert.deepEqual([...statuses], [PROBLEM_CODES[code as keyof typeof PROBLEM_CODES]], code);
  assert.ok(Object.values(ROUTE_PROBLEMS).flat().length > 0);
});

test('the contracts do not mention the removed dpmpp_sde scheduler', () => {
  assert.doesNotMatch(readFileSync(OPENAPI_PATH, 'utf8'), /dpmpp_sde\b/);
});
