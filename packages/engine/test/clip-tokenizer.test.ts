import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClipTokenizer } from '../src/text/clip-tokenizer.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SD15_DIR = join(ROOT, 'models/tiny-sd15/tokenizer');
const SD2_DIR = join(ROOT, 'models/tiny-sd2-v/tokenizer');

interface TokenizerCase {
  prompt: string; ids: number[]; num_text_tokens: number; tokens: string[];
  ids_sd1: number[]; attention_mask_sd1: number[]; ids_sd2: number[]; attention_mask_sd2: number[];
}
const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/parity/tokenizer/cases.json'), 'utf8')) as {
  bos_token_id: number; eos_token_id: number; cases: TokenizerCase[];
};

let sd1: ClipTokenizer;
let sd2: ClipTokenizer;
before(async () => {
  [sd1, sd2] = await Promise.all([ClipTokenizer.fromDirectory(SD15_DIR), ClipTokenizer.fromDirectory(SD2_DIR)]);
});

describe('ClipTokenizer special tokens', () => {
  it('reads BOS/EOS/pad and the model length; special_tokens_map.json wins for SD 2 pad', () => {
    assert.equal(sd1.bosTokenId, fixture.bos_token_id);
    assert.equal(sd1.eosTokenId, fixture.eos_token_id);
    assert.equal(sd1.padTokenId, 49407);
    assert.equal(sd2.padTokenId, 0);
    assert.equal(sd1.modelMaxLength, 77);
    assert.equal(sd2.modelMaxLength, 77);
  });
});

describe('ClipTokenizer matches transformers CLIPTokenizer on every fixture prompt', () => {
  assert.equal(fixture.cases.length, 31);
  for (const c of fixture.cases) {
    const label = JSON.stringify(c.prompt).slice(0, 60);
    it(label, () => {
      const text = c.ids.slice(1, -1);
      assert.deepEqual(sd1.encode(c.prompt), text, 'ids (SD 1 tokenizer)');
      assert.deepEqual(sd1.tokenize(c.prompt), c.tokens.slice(1, -1), 'tokens');
      assert.equal(text.length, c.num_text_tokens);

      const m1 = sd1.encodeForModelWithMask(c.prompt);
      assert.deepEqual(Array.from(m1.inputIds), c.ids_sd1, 'ids_sd1');
      assert.deepEqual(Array.from(m1.attentionMask), c.attention_mask_sd1, 'attention_mask_sd1');
      assert.deepEqual(Array.from(sd1.encodeForModel(c.prompt)), c.ids_sd1, 'encodeForModel sd1');

      const m2 = sd2.encodeForModelWithMask(c.prompt);
      assert.deepEqual(Array.from(m2.inputIds), c.ids_sd2, 'ids_sd2');
      assert.deepEqual(Array.from(m2.attentionMask), c.attention_mask_sd2, 'attention_mask_sd2');
      assert.ok(sd2.encodeForModel(c.prompt) instanceof Int32Array);
    });
  }

  it('without truncation keeps every token', () => {
    const long = fixture.cases.find((c) => c.num_text_tokens > 75)!;
    assert.deepEqual(Array.from(sd1.encodeForModel(long.prompt, { truncation: false })), long.ids);
  });
});

describe('ClipTokenizer.fromDirectory errors', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clip-tok-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the missing file', async () => {
    await cp(SD15_DIR, join(dir, 'missing'), { recursive: true });
    await unlink(join(dir, 'missing', 'merges.txt'));
    await assert.rejects(ClipTokenizer.fromDirectory(join(dir, 'missing')), (err: Error) => {
      assert.match(err.message, /merges\.txt: missing/);
      return true;
    });
  });

  it('names a malformed file', async () => {
    await cp(SD15_DIR, join(dir, 'bad'), { recursive: true });
    await writeFile(join(dir, 'bad', 'vocab.json'), '{"a": 1,');
    await assert.rejects(ClipTokenizer.fromDirectory(join(dir, 'bad')), /vocab\.json: is not valid JSON/);
  });
});
