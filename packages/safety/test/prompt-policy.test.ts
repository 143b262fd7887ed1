import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PromptPolicy, PromptPolicyError } from '../src/index.ts';

const policy = PromptPolicy.parse([
  '# comment lines and blank lines are skipped',
  '',
  'gore',
  'blood bath',
  '/\\bbad(word|thing)s?\\b/',
].join('\n'));

test('terms match case-insensitively on word boundaries', () => {
  assert.equal(policy.size, 3);
  assert.ok(policy.blocks('a GORE scene'));
  assert.ok(policy.blocks('gore'));
  assert.ok(policy.blocks('(gore:1.3)'));
  assert.equal(policy.blocks('gorey details'), false);
  assert.equal(policy.blocks('a mangorest'), false);
  assert.equal(policy.blocks('gore_fest'), false, 'underscore joins words');
});

test('multi-word terms match across any whitespace', () => {
  assert.ok(policy.blocks('a blood   bath at dawn'));
  assert.ok(policy.blocks('Blood\tBath'));
  assert.equal(policy.blocks('bloodbath'), false);
});

test('Unicode is normalised (NFKC): full-width letters match', () => {
  assert.ok(policy.blocks('ｇｏｒｅ'));
  assert.ok(policy.blocks('ＧＯＲＥ'));
});

test('regex lines match as written, case-insensitively', () => {
  assert.ok(policy.blocks('two BadThings'));
  assert.ok(policy.blocks('badword'));
  assert.equal(policy.blocks('badminton'), false);
});

test('any of several texts may match; empty texts never do', () => {
  assert.ok(policy.blocks('', undefined, 'gore'));
  assert.equal(policy.blocks('', null, undefined), false);
});

test('a global flag does not make matching stateful', () => {
  const p = PromptPolicy.parse('/gore/g');
  assert.ok(p.blocks('gore'));
  assert.ok(p.blocks('gore'));
});

test('an invalid regex names its line', () => {
  assert.throws(() => PromptPolicy.parse('ok\n/(unclosed/'), (err: unknown) => err instanceof PromptPolicyError && /:2: invalid regular expression/.test(err.message));
});
