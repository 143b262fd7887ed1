import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processPrompt, extractInlineNegatives, extractImageTag, PromptSyntaxError } from '@sdsvc/prompt';

const run = (prompt: string, negativePrompt = '') => processPrompt({ prompt, negativePrompt });

test('plain prompt passes through with weights', () => {
  const r = run('a (red:1.2) cat', 'blurry');
  assert.equal(r.prompt, 'a (red:1.2) cat');
  assert.equal(r.negativePrompt, 'blurry');
  assert.deepEqual(r.weights.positive, [['a ', 1], ['red', 1.2], [' cat', 1]]);
  assert.deepEqual(r.weights.negative, [['blurry', 1]]);
  assert.equal(r.referenceImage, null);
  assert.deepEqual(r.warnings, []);
});

test('inline negative group moves to the negative prompt, appended to the explicit one', () => {
  const r = run('a cat, (-blurry), sunny', 'ugly');
  assert.equal(r.prompt, 'a cat, sunny');
  assert.equal(r.negativePrompt, 'ugly, blurry');
  assert.deepEqual(r.weights.negative, [['ugly, blurry', 1]]);
});

test('several terms in one group split at " -"', () => {
  const r = run('(-bad hands -unnatural hands) portrait');
  assert.equal(r.prompt, 'portrait');
  assert.equal(r.negativePrompt, 'bad hands, unnatural hands');
});

test('hyphens inside words and spaced dashes do not split terms', () => {
  assert.deepEqual(extractInlineNegatives('(-semi-realistic -low - quality)').negatives, ['semi-realistic', 'low - quality']);
});

test('commas between terms and spaces inside the group are tolerated', () => {
  assert.deepEqual(extractInlineNegatives('x ( -a, -b )').negatives, ['a', 'b']);
});

test('several groups, in prompt order, with separators cleaned up', () => {
  const r = run('(-x), a, (-y), b (-z)');
  assert.equal(r.prompt, 'a, b');
  assert.equal(r.negativePrompt, 'x, y, z');
});

test('a trailing weight applies to every term of the group', () => {
  const r = run('a (-blurry -noisy:1.3)', 'x');
  assert.equal(r.prompt, 'a');
  assert.equal(r.negativePrompt, 'x, (blurry:1.3), (noisy:1.3)');
  assert.deepEqual(r.weights.negative, [['x, ', 1], ['blurry', 1.3], [', ', 1], ['noisy', 1.3]]);
});

test('a group nested in a weight group leaves the outer weight on the rest', () => {
  const r = run('(cat (-dog):1.2)');
  assert.equal(r.prompt, '(cat:1.2)');
  assert.equal(r.negativePrompt, 'dog');
  assert.equal(run('((-x)) y').negativePrompt, 'x');
});

test('\\(- is a literal, kept in the prompt', () => {
  const r = run('\\(-x) y');
  assert.equal(r.prompt, '\\(-x) y');
  assert.equal(r.negativePrompt, '');
  assert.deepEqual(r.weights.positive, [['(-x) y', 1]]);
});

test('an escaped backslash before ( does not escape the paren', () => {
  const r = run('a \\\\(-x)');
  assert.equal(r.prompt, 'a \\\\');
  assert.equal(r.negativePrompt, 'x');
});

test('(-…) with brackets inside or no closer stays literal A1111 text with a warning', () => {
  const nested = run('(-bad (hands)) x');
  assert.equal(nested.prompt, '(-bad (hands)) x');
  assert.equal(nested.negativePrompt, '');
  assert.equal(nested.warnings[0].code, 'prompt_inline_negative_ignored');
  const open = run('a (-unclosed');
  assert.equal(open.prompt, 'a (-unclosed');
  assert.deepEqual(open.weights.positive, [['a ', 1], ['-unclosed', 1.1]]);
  assert.equal(open.warnings.length, 1);
});

test('empty group and minus inside ordinary groups', () => {
  assert.equal(run('a (-) b').prompt, 'a b');
  assert.equal(run('a (x -y) b').prompt, 'a (x -y) b');
  assert.equal(run('a (x -y) b').negativePrompt, '');
});

test('prompt made only of negatives is empty', () => {
  const r = run('(-a, -b)');
  assert.equal(r.prompt, '');
  assert.deepEqual(r.weights.positive, [['', 1]]);
  assert.equal(r.negativePrompt, 'a, b');
});

test('BREAK is kept in the prompt and parsed', () => {
  const r = run('a BREAK b (-c)');
  assert.equal(r.prompt, 'a BREAK b');
  assert.deepEqual(r.weights.positive, [['a', 1], ['BREAK', -1], ['b', 1]]);
});

test('{image} refers to the job reference image and is removed', () => {
  const r = run('{image} a cat');
  assert.equal(r.prompt, 'a cat');
  assert.deepEqual(r.referenceImage, { source: 'job' });
  assert.deepEqual(run('a, {image}, cat').prompt, 'a, cat');
  assert.deepEqual(run('a { Image } b').referenceImage, { source: 'job' });
});

test('{image:https://…} names the reference inline', () => {
  const r = run('a cat {image:https://example.com/a.png?x=1}, red');
  assert.equal(r.prompt, 'a cat, red');
  assert.deepEqual(r.referenceImage, { source: 'url', url: 'https://example.com/a.png?x=1' });
});

test('the URL of an image tag is not mistaken for an inline negative', () => {
  const r = run('x {image:https://example.com/(-a).png}');
  assert.deepEqual(r.referenceImage, { source: 'url', url: 'https://example.com/(-a).png' });
  assert.equal(r.negativePrompt, '');
});

test('\\{image} is not a tag', () => {
  const r = extractImageTag('a \\{image} b');
  assert.equal(r.referenceImage, null);
  assert.equal(r.text, 'a \\{image} b');
});

function assertCode(fn: () => unknown, code: string, field: string) {
  assert.throws(fn, (e: unknown) => e instanceof PromptSyntaxError && e.code === code && e.field === field);
}

test('errors that must become a 400 carry a stable code and field', () => {
  assertCode(() => run('{image} and {image}'), 'prompt_multiple_image_tags', 'prompt');
  assertCode(() => run('{image:https://a.example/x.png} {image}'), 'prompt_multiple_image_tags', 'prompt');
  assertCode(() => run('a {image:}'), 'prompt_image_tag_invalid', 'prompt');
  assertCode(() => run('a {image:not a url}'), 'prompt_image_tag_invalid', 'prompt');
  assertCode(() => run('a {image:file:///etc/passwd}'), 'prompt_image_tag_invalid', 'prompt');
  assertCode(() => run('a', 'b {image}'), 'prompt_image_tag_in_negative', 'negative_prompt');
});

test('malformed input never throws anything but PromptSyntaxError', () => {
  const inputs = ['(((', ')))', '(-', '(-)', '(- -)', '-)', '\\', '(-a\\)', '{', '}', '{image', 'image}', '(-{image})', '(-a:)', '(-a:.)', '[-a]', '(-a]b)', ':', '\u0001(-x)'];
  for (const s of inputs) {
    assert.doesNotThrow(() => run(s, s.replace('{image}', '')), s);
  }
});

test('null negative prompt is treated as empty', () => {
  assert.equal(processPrompt({ prompt: 'a (-b)', negativePrompt: null }).negativePrompt, 'b');
});
