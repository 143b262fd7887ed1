// The README's reference tables are the contract operators and clients read: every environment
// variable (packages/config VARIABLES) with its default, and every problem code (PROBLEM_CODES)
// with its status. A variable or code added without documentation fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { VARIABLES } from '@sdsvc/config';
import { PROBLEM_CODES } from '@sdsvc/contracts';

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
const rows = readme.split('\n').filter((l) => l.startsWith('| '));

test('every environment variable has a row in the configuration table, with its default', () => {
  const missing: string[] = [];
  const wrongDefault: string[] = [];
  for (const v of VARIABLES) {
    const row = rows.find((r) => r.startsWith(`| \`${v.name}\` |`));
    if (!row) { missing.push(v.name); continue; }
    const cell = row.split(' | ')[1] ?? '';
    const expected = v.default === undefined ? /\(unset\)/ : v.default === '' ? /\(empty\)|``/ : new RegExp(`\`${v.default.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\``);
    if (!expected.test(cell)) wrongDefault.push(`${v.name}: README says ${cell}, code says ${v.default ?? '(unset)'}`);
  }
  assert.ok(VARIABLES.length > 40, 'VARIABLES read');
  assert.deepEqual(missing, [], 'variables without a README row');
  assert.deepEqual(wrongDefault, [], 'README defaults that differ from the code');
});

test('every problem code has a row in the errors table, under its status', () => {
  const problems: string[] = [];
  for (const [code, status] of Object.entries(PROBLEM_CODES)) {
    const row = rows.find((r) => r.includes(`| \`${code}\` |`) && /^\| \d{3} \|/.test(r));
    if (!row) problems.push(`${code}: no row`);
    else if (!row.startsWith(`| ${status} |`)) problems.push(`${code}: row says ${row.slice(2, 5)}, code says ${status}`);
  }
  assert.deepEqual(problems, []);
});
