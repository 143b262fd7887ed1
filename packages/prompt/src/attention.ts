// A1111's `parse_prompt_attention`, reimplemented: `(x)` ×1.1, `[x]` ÷1.1, `(x:w)` ×w,
// `\(` `\)` `\[` `\]` `\\` literals, `BREAK` → ['BREAK', -1]. Unbalanced brackets never throw:
// an unmatched closer is literal text, an unclosed opener applies its multiplier to everything after it.

export type WeightedFragment = [text: string, weight: number];

// Same alternatives, same order as A1111's `re_attention` (first alternative wins at each position).
const ATTENTION_TOKEN =
  /\\\(|\\\)|\\\[|\\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|\]|[^\\()[\]:]+|:/g;

// Python's `\bBREAK\b` in a str pattern uses Unicode word characters; emulate with lookarounds.
const BREAK_SPLIT = /\s*(?<![\p{L}\p{N}_])BREAK(?![\p{L}\p{N}_])\s*/u;

const ROUND = 1.1;
const SQUARE = 1 / 1.1;

export function parsePromptAttention(text: string): WeightedFragment[] {
  const res: WeightedFragment[] = [];
  const round: number[] = [];
  const square: number[] = [];
  const multiplyFrom = (start: number, m: number): void => {
    for (let p = start; p < res.length; p++) res[p][1] *= m;
  };

  for (const match of text.matchAll(ATTENTION_TOKEN)) {
    const token = match[0];
    const weightText = match[1];
    // Python's float() raises on '.' or '1.2.3'; we treat such a closer as literal text instead.
    const weight = weightText === undefined ? NaN : Number(weightText);
    if (token.startsWith('\\')) {
      res.push([token.slice(1), 1.0]);
    } else if (token === '(') {
      round.push(res.length);
    } else if (token === '[') {
      square.push(res.length);
    } else if (weightText !== undefined && round.length > 0 && Number.isFinite(weight)) {
      multiplyFrom(round.pop()!, weight);
    } else if (token === ')' && round.length > 0) {
      multiplyFrom(round.pop()!, ROUND);
    } else if (token === ']' && square.length > 0) {
      multiplyFrom(square.pop()!, SQUARE);
    } else {
      const parts = token.split(BREAK_SPLIT);
      parts.forEach((part, i) => {
        if (i > 0) res.push(['BREAK', -1]);
        res.push([part, 1.0]);
      });
    }
  }

  for (const pos of round) multiplyFrom(pos, ROUND);
  for (const pos of square) multiplyFrom(pos, SQUARE);

  if (res.length === 0) return [['', 1.0]];

  // Merge runs of identical weights (exact float equality, as A1111).
  let i = 0;
  while (i + 1 < res.length) {
    if (res[i][1] === res[i + 1][1]) {
      res[i][0] += res[i + 1][0];
      res.splice(i + 1, 1);
    } else {
      i++;
    }
  }
  return res;
}

/** True for the marker A1111 emits for a top-level `BREAK` (inside brackets its weight is scaled and it is plain text). */
export function isBreak(fragment: WeightedFragment): boolean {
  return fragment[0] === 'BREAK' && fragment[1] === -1;
}
