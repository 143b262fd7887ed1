// <lora:name:scale> prompt tags: cut out of the text and returned; malformed tags are 400s naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractLoraTags, processPrompt, PromptSyntaxError } from '../src/index.ts';

test('tags with and without a weight are removed and returned in order', () => {
  assert.deepEqual(extractLoraTags('a castle, <lora:ink-style:0.8>, on a hill <lora:styles/pencil>'), {
    text: 'a castle, on a hill',
    loras: [{ name: 'ink-style', scale: 0.8 }, { name: 'styles/pencil', scale: 1 }],
  });
  assert.deepEqual(extractLoraTags('<LORA: a :-1.5>cat'), { text: 'cat', loras: [{ name: 'a', scale: -1.5 }] });
  assert.deepEqual(extractLoraTags('no tags <here>'), { text: 'no tags <here>', loras: [] });
});

test('processPrompt returns the LoRAs and keeps weights and inline negatives working', () => {
  const p = processPrompt({ prompt: 'a (red:1.2) fox <lora:fox:.5>, (-blurry)', negativePrompt: 'ugly' });
  assert.equal(p.prompt, 'a (red:1.2) fox');
  assert.equal(p.negativePrompt, 'ugly, blurry');
  assert.deepEqual(p.loras, [{ name: 'fox', scale: 0.5 }]);
  assert.deepEqual(processPrompt({ prompt: 'plain' }).loras, []);
});

test('malformed tags are PromptSyntaxError prompt_lora_tag_invalid with the field', () => {
  const bad = (prompt: string, negativePrompt: string | undefined, field: string, pattern: RegExp) =>
    assert.throws(() => processPrompt({ prompt, negativePrompt }),
      (e: unknown) => e instanceof PromptSyntaxError && e.code === 'prompt_lora_tag_invalid' && e.field === field && pattern.test(e.message));
  bad('a <lora:>', undefined, 'prompt', /has no name/);
  bad('a <lora:x:strong>', undefined, 'prompt', /"strong" is not a number/);
  bad('a <lora:x:5>', undefined, 'prompt', /outside/);
  bad('a <lora:x:1:0.5>', undefined, 'prompt', /not supported/);
  bad('a', 'b <lora:x>', 'negative_prompt', /not the negative prompt/);
});
