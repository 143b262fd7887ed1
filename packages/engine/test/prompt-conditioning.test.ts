// A1111 conditioning with the real CLIP tokenizer and a deterministic stand-in text encoder (a
// simple function of id, position and dimension; the real encoder is tested elsewhere).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parsePromptAttention } from '@sdsvc/prompt';
import { ClipTokenizer } from '../src/text/clip-tokenizer.ts';
import {
  applyWeights,
  buildPromptChunks,
  encodePromptPairA1111,
  encodeWeightedPrompt,
  encodeWeightedPromptPair,
} from '../src/text/prompt-conditioning.ts';
import { encodePromptPair, encodePromptPairPlain } from '../src/text/encode-prompt.ts';

const models = path.resolve(import.meta.dirname, '../../../models');
const sd15 = await ClipTokenizer.fromDirectory(path.join(models, 'tiny-sd15/tokenizer'));
const sd2 = await ClipTokenizer.fromDirectory(path.join(models, 'tiny-sd2-v/tokenizer'));

const HIDDEN = 4;
const BOS = 49406, EOS = 49407, COMMA = 267, CAT = 2368, DOG = 1929;

const calls: Int32Array[] = [];
async function fakeEncoder(ids: Int32Array, rows: number): Promise<Float32Array> {
  calls.push(ids.slice());
  assert.equal(ids.length, rows * 77);
  const out = new Float32Array(rows * 77 * HIDDEN);
  for (let i = 0; i < ids.length; i++) {
    const pos = i % 77;
    for (let d = 0; d < HIDDEN; d++) out[i * HIDDEN + d] = 0.25 + ((ids[i] * 7 + pos * 3 + d * 5) % 11) / 11;
  }
  return out;
}

const chunkIds = (text: string, tok = sd15) => buildPromptChunks(tok, parsePromptAttention(text)).map((c) => c.ids);
const words = (word: string, n: number) => Array(n).fill(word).join(' ');

test('a short plain prompt gives diffusers ids and embeddings exactly', async () => {
  const prompt = 'a photo of a cat, highly detailed';
  const [ids] = chunkIds(prompt);
  assert.deepEqual(ids, [...sd15.encodeForModel(prompt)]);
  const a1111 = await encodePromptPairA1111({ tokenizer: sd15, runTextEncoder: fakeEncoder, hidden: HIDDEN, prompt, negativePrompt: 'blurry', withNegative: true });
  const plain = await encodePromptPairPlain({ tokenizer: sd15, runTextEncoder: fakeEncoder, hidden: HIDDEN, prompt, negativePrompt: 'blurry', withNegative: true });
  assert.deepEqual(a1111.cond.data, plain.cond.data);
  assert.deepEqual(a1111.uncond!.data, plain.uncond!.data);
  assert.equal(a1111.cond.tokens, 77);
  // Same ids in the same batch layout ([uncond, cond]) as the plain path.
  assert.deepEqual(calls.at(-2), calls.at(-1));
});

test('SD2 tokenizer: ids after the first EOS are the pad id (0), as diffusers pads', () => {
  const [ids] = chunkIds('cat, dog', sd2);
  assert.deepEqual(ids.slice(0, 6), [BOS, CAT, COMMA, DOG, EOS, 0]);
  assert.ok(ids.slice(5).every((id) => id === 0));
  assert.deepEqual(ids, [...sd2.encodeForModel('cat, dog')]);
  // SD1 pads with EOS.
  assert.ok(chunkIds('cat')[0].slice(2).every((id) => id === EOS));
});

test('empty prompt is one chunk: BOS, EOS, padding', () => {
  const chunks = chunkIds('');
  assert.equal(chunks.length, 1);
  assert.deepEqual(chunks[0], [...sd15.encodeForModel('')]);
});

test('more than 75 tokens split into chunks of 75, each BOS + 75 + EOS', () => {
  const chunks = chunkIds(words('cat', 100));
  assert.equal(chunks.length, 2);
  assert.deepEqual(chunks[0], [BOS, ...Array(75).fill(CAT), EOS]);
  assert.deepEqual(chunks[1], [BOS, ...Array(25).fill(CAT), ...Array(51).fill(EOS)]);
  assert.equal(chunkIds(words('cat', 75)).length, 1);
  assert.equal(chunkIds(words('cat', 76)).length, 2);
});

test('comma backtrack: a comma in the last 20 tokens of a full chunk ends it', () => {
  // 60 cats, comma (token 61), then 30 dogs: the chunk fills at 75 with the comma 14 back → cut after it.
  const chunks = chunkIds(`${words('cat', 60)}, ${words('dog', 30)}`);
  assert.equal(chunks.length, 2);
  assert.deepEqual(chunks[0], [BOS, ...Array(60).fill(CAT), COMMA, ...Array(15).fill(EOS)]);
  assert.deepEqual(chunks[1], [BOS, ...Array(30).fill(DOG), ...Array(46).fill(EOS)]);
});

test('no backtrack when the last comma is more than 20 tokens back, or when disabled', () => {
  const chunks = chunkIds(`${words('cat', 50)}, ${words('dog', 40)}`);
  assert.deepEqual(chunks[0], [BOS, ...Array(50).fill(CAT), COMMA, ...Array(24).fill(DOG), EOS]);
  assert.deepEqual(chunks[1].slice(0, 18), [BOS, ...Array(16).fill(DOG), EOS]);
  const off = buildPromptChunks(sd15, parsePromptAttention(`${words('cat', 60)}, ${words('dog', 30)}`), { commaBacktrack: 0 });
  assert.deepEqual(off[0].ids.slice(60, 63), [CAT, COMMA, DOG]);
});

test('a comma exactly at a full chunk starts the next chunk', () => {
  const chunks = chunkIds(`${words('cat', 75)}, dog`);
  assert.deepEqual(chunks[0], [BOS, ...Array(75).fill(CAT), EOS]);
  assert.deepEqual(chunks[1].slice(0, 4), [BOS, COMMA, DOG, EOS]);
});

test('BREAK starts a new chunk; a trailing BREAK adds none; BREAK in brackets is a word', () => {
  const chunks = chunkIds('cat BREAK dog');
  assert.equal(chunks.length, 2);
  assert.deepEqual(chunks[0].slice(0, 3), [BOS, CAT, EOS]);
  assert.deepEqual(chunks[1].slice(0, 3), [BOS, DOG, EOS]);
  assert.equal(chunkIds('cat BREAK').length, 1);
  assert.equal(chunkIds('BREAK cat').length, 2);
  const inParens = chunkIds('(cat BREAK dog)');
  assert.equal(inParens.length, 1);
  assert.deepEqual(inParens[0].slice(0, 5), [BOS, CAT, ...sd15.encode('BREAK'), DOG, EOS]);
});

test('each token carries its fragment weight; BOS/EOS/padding weigh 1', () => {
  const [chunk] = buildPromptChunks(sd15, parsePromptAttention('(cat:1.5) [dog], cat'));
  assert.deepEqual(chunk.ids.slice(0, 6), [BOS, CAT, DOG, COMMA, CAT, EOS]);
  assert.deepEqual(chunk.weights.slice(0, 6), [1, 1.5, 1 / 1.1, 1, 1, 1]);
  assert.ok(chunk.weights.slice(5).every((w) => w === 1));
});

test('weights scale token vectors, then the chunk mean is restored', async () => {
  const parsed = parsePromptAttention('a (cat:1.5) and a [[dog]]');
  const [chunk] = buildPromptChunks(sd15, parsed);
  const raw = await fakeEncoder(new Int32Array(chunk.ids), 1);
  const { embeddings, chunks, hidden } = await encodeWeightedPrompt(sd15, fakeEncoder, parsed);
  assert.equal(chunks, 1);
  assert.equal(hidden, HIDDEN);
  const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(embeddings) - mean(raw)) < 1e-6);
  // Every vector is raw × weight × (one common factor).
  const factor = embeddings[0] / raw[0];
  for (let t = 0; t < 77; t++) {
    for (let d = 0; d < HIDDEN; d++) {
      const i = t * HIDDEN + d;
      assert.ok(Math.abs(embeddings[i] - raw[i] * chunk.weights[t] * factor) < 1e-5, `token ${t} dim ${d}`);
    }
  }
  assert.notEqual(factor, 1);
  const catIndex = chunk.ids.indexOf(CAT);
  assert.ok(Math.abs(embeddings[catIndex * HIDDEN] / raw[catIndex * HIDDEN] - 1.5 * factor) < 1e-6);
});

test('mean restoration is per chunk', async () => {
  const parsed = parsePromptAttention(`(${words('cat', 80)}:2)`);
  const { embeddings, chunks } = await encodeWeightedPrompt(sd15, fakeEncoder, parsed);
  assert.equal(chunks, 2);
  const ids = buildPromptChunks(sd15, parsed).map((c) => c.ids);
  for (let c = 0; c < 2; c++) {
    const raw = await fakeEncoder(new Int32Array(ids[c]), 1);
    const got = embeddings.subarray(c * 77 * HIDDEN, (c + 1) * 77 * HIDDEN);
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(sum(got) - sum(raw)) < 1e-3, `chunk ${c}`);
  }
});

test('applyWeights: all-1 weights leave the data bit-identical; zero mean is not divided by', () => {
  const z = new Float32Array([0.1, -0.3, 0.7, 0.2]);
  const copy = z.slice();
  applyWeights(z, [1, 1], 2);
  assert.deepEqual(z, copy);
  const zero = new Float32Array([1, 1, -1, -1]);
  applyWeights(zero, [2, 2], 2);
  assert.ok(zero.every(Number.isFinite));
});

test('{chunks} pads a prompt with empty chunks', async () => {
  const { embeddings, chunks } = await encodeWeightedPrompt(sd15, fakeEncoder, parsePromptAttention('cat'), { chunks: 3 });
  assert.equal(chunks, 3);
  assert.equal(embeddings.length, 3 * 77 * HIDDEN);
  const last = calls.at(-1)!;
  assert.deepEqual([...last.subarray(77, 154)], [...sd15.encodeForModel('')]);
  assert.deepEqual([...last.subarray(154)], [...sd15.encodeForModel('')]);
});

test('prompt pair: the shorter side is padded with empty chunks to the same count', async () => {
  const pair = await encodeWeightedPromptPair(sd15, fakeEncoder, parsePromptAttention(words('cat', 100)), parsePromptAttention('blurry'));
  assert.equal(pair.positive.chunks, 2);
  assert.equal(pair.negative.chunks, 2);
  const ids = calls.at(-1)!;
  assert.equal(ids.length, 4 * 77);
  assert.deepEqual([...ids.subarray(0, 77)], [...sd15.encodeForModel('blurry')]);
  assert.deepEqual([...ids.subarray(77, 154)], [...sd15.encodeForModel('')]);
  assert.deepEqual(pair.negative.embeddings.subarray(77 * HIDDEN), await fakeEncoder(new Int32Array(sd15.encodeForModel('')), 1));

  const seam = await encodePromptPairA1111({ tokenizer: sd15, runTextEncoder: fakeEncoder, hidden: HIDDEN, prompt: 'cat', negativePrompt: words('dog', 160), withNegative: true });
  assert.equal(seam.cond.tokens, 3 * 77);
  assert.equal(seam.uncond!.tokens, 3 * 77);
});

test('without a negative side only the prompt is encoded', async () => {
  const r = await encodePromptPairA1111({ tokenizer: sd15, runTextEncoder: fakeEncoder, hidden: HIDDEN, prompt: 'cat BREAK dog', negativePrompt: 'x', withNegative: false });
  assert.equal(r.uncond, null);
  assert.equal(r.cond.tokens, 154);
  assert.equal(calls.at(-1)!.length, 154);
  await assert.rejects(
    encodePromptPairA1111({ tokenizer: sd15, runTextEncoder: fakeEncoder, hidden: 768, prompt: 'cat', negativePrompt: '', withNegative: false }),
    /hidden size is 4/,
  );
});

test("the pipeline's seam loads this module for promptSyntax 'a1111'", async () => {
  const input = { tokenizer: sd15, runTextEncoder: fakeEncoder, hidden: HIDDEN, prompt: '(cat:1.3) BREAK dog', negativePrompt: 'x', withNegative: true };
  const viaSeam = await encodePromptPair(input, 'a1111');
  const direct = await encodePromptPairA1111(input);
  assert.equal(viaSeam.cond.tokens, 154);
  assert.deepEqual(viaSeam.cond.data, direct.cond.data);
  assert.deepEqual(viaSeam.uncond!.data, direct.uncond!.data);
});
