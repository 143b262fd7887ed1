import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePromptAttention as parse, isBreak } from '@sdsvc/prompt';

test("A1111's documented parse_prompt_attention examples", () => {
  assert.deepEqual(parse('normal text'), [['normal text', 1.0]]);
  assert.deepEqual(parse('an (important) word'), [['an ', 1.0], ['important', 1.1], [' word', 1.0]]);
  assert.deepEqual(parse('(unbalanced'), [['unbalanced', 1.1]]);
  assert.deepEqual(parse('\\(literal\\]'), [['(literal]', 1.0]]);
  assert.deepEqual(parse('(unnecessary)(parens)'), [['unnecessaryparens', 1.1]]);
  assert.deepEqual(parse('a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).'), [
    ['a ', 1.0],
    ['house', 1.5730000000000004],
    [' ', 1.1],
    ['on', 1.0],
    [' a ', 1.1],
    ['hill', 0.55],
    [', sun, ', 1.1],
    ['sky', 1.4641000000000006],
    ['.', 1.1],
  ]);
});

test('empty input gives one empty fragment of weight 1', () => {
  assert.deepEqual(parse(''), [['', 1.0]]);
  assert.deepEqual(parse('()'), [['', 1.0]]);
});

test('nesting multiplies; square brackets divide by 1.1', () => {
  assert.deepEqual(parse('((a))'), [['a', 1.1 * 1.1]]);
  assert.deepEqual(parse('[a]'), [['a', 1 / 1.1]]);
  assert.deepEqual(parse('[[a]]'), [['a', (1 / 1.1) * (1 / 1.1)]]);
  assert.deepEqual(parse('([a])'), [['a', (1 / 1.1) * 1.1]]);
  assert.deepEqual(parse('((a:2) b)'), [['a', 2 * 1.1], [' b', 1.1]]);
});

test('explicit weights: spaces around the number, signs, leading dot', () => {
  assert.deepEqual(parse('(a: 1.5 )'), [['a', 1.5]]);
  assert.deepEqual(parse('(a:+.5)'), [['a', 0.5]]);
  assert.deepEqual(parse('(a:-1)'), [['a', -1]]);
  assert.deepEqual(parse('(a:0)'), [['a', 0]]);
});

test('escapes: \\( \\) \\[ \\] \\\\ are literal; a lone backslash is dropped', () => {
  assert.deepEqual(parse('\\(a\\)'), [['(a)', 1.0]]);
  assert.deepEqual(parse('\\[a\\]'), [['[a]', 1.0]]);
  assert.deepEqual(parse('a\\\\b'), [['a\\b', 1.0]]);
  assert.deepEqual(parse('a\\b'), [['ab', 1.0]]);
  assert.deepEqual(parse('(\\(a\\))'), [['(a)', 1.1]]);
  assert.deepEqual(parse('\\\\(a)'), [['\\', 1.0], ['a', 1.1]]);
});

test('BREAK splits at top level, swallowing the spaces around it', () => {
  assert.deepEqual(parse('a BREAK b'), [['a', 1.0], ['BREAK', -1], ['b', 1.0]]);
  assert.deepEqual(parse('a\nBREAK\nb'), [['a', 1.0], ['BREAK', -1], ['b', 1.0]]);
  assert.deepEqual(parse('BREAK'), [['', 1.0], ['BREAK', -1], ['', 1.0]]);
  assert.ok(isBreak(parse('a BREAK b')[1]));
});

test('BREAK only as a whole word; inside brackets it is weighted text (as A1111)', () => {
  assert.deepEqual(parse('BREAKING news'), [['BREAKING news', 1.0]]);
  assert.deepEqual(parse('a break b'), [['a break b', 1.0]]);
  const inParens = parse('(a BREAK b)');
  assert.deepEqual(inParens, [['a', 1.1], ['BREAK', -1 * 1.1], ['b', 1.1]]);
  assert.ok(!isBreak(inParens[1]));
});

test('unbalanced and stray syntax is literal text, never an exception', () => {
  assert.deepEqual(parse('a)'), [['a)', 1.0]]);
  assert.deepEqual(parse('a]'), [['a]', 1.0]]);
  assert.deepEqual(parse('[a'), [['a', 1 / 1.1]]);
  assert.deepEqual(parse('x:1.2)'), [['x:1.2)', 1.0]]);
  assert.deepEqual(parse('a:b'), [['a:b', 1.0]]);
  assert.deepEqual(parse('(a]'), [['a]', 1.1]]);
  assert.deepEqual(parse('[a)'), [['a)', 1 / 1.1]]);
  // Python would raise on float('.'); we keep the closer as text and the bracket stays open.
  assert.deepEqual(parse('(a:.)'), [['a:.)', 1.1]]);
  for (const s of ['(((', ')))', '[[[', ']]]', ':::', '\\', '(:)', '(a:1.2.3)', '((a:1)', 'a(b[c)d]e', '\\\\\\']) {
    assert.doesNotThrow(() => parse(s), s);
    assert.ok(parse(s).length >= 1);
  }
});

test('runs with the same weight merge', () => {
  assert.deepEqual(parse('(a)(b) c'), [['ab', 1.1], [' c', 1.0]]);
  assert.deepEqual(parse('a [b] c'), [['a ', 1.0], ['b', 1 / 1.1], [' c', 1.0]]);
});
