// Inline negatives (seed convention): `(-bad anatomy)` or `(-bad hands -unnatural hands)` in the
// prompt moves those terms to the negative prompt.
//
// Exact rules:
// - A group starts at an unescaped `(` whose first non-space character is `-`, and ends at the next
//   unescaped `)`. If an unescaped `(`, `[` or `]` comes first, or there is no `)`, it is not a
//   group: the text stays in the prompt, read by A1111's rules, and a warning is returned.
// - `\(-x)` is literal text (the escape is kept in the prompt; A1111's parser turns it into `(`).
// - Inside a group, terms are split at whitespace followed by `-` and a non-space character
//   (`-semi-realistic` and `a - b` stay one term). Leading `-`, surrounding spaces and trailing
//   commas are dropped from each term; empty terms are dropped (`(-)` just disappears).
// - An optional trailing `:weight` (A1111's number syntax) applies to every term of the group:
//   `(-blurry -noisy:1.3)` adds `(blurry:1.3), (noisy:1.3)` to the negative prompt.
// - Weights of enclosing groups are not carried over (`((-x))` adds plain `x`).
import type { PromptWarning } from './errors.ts';
import { joinAround, maskEscapes } from './text-edit.ts';

export interface InlineNegativesResult {
  text: string;
  /** Terms in prompt order, ready to join into the negative prompt. */
  negatives: string[];
  warnings: PromptWarning[];
}

const GROUP_START = /\(\s*-/g;
const TRAILING_WEIGHT = /:\s*([+-]?[.\d]+)\s*$/;
const TERM_SPLIT = /\s+-(?=\S)/;

export function extractInlineNegatives(text: string): InlineNegativesResult {
  const masked = maskEscapes(text);
  const groups: Array<{ start: number; end: number; terms: string[] }> = [];
  const warnings: PromptWarning[] = [];
  let consumedUntil = 0;

  for (const m of masked.matchAll(GROUP_START)) {
    if (m.index < consumedUntil) continue;
    const open = m.index;
    const stop = findFirst(masked, open + 1, '()[]');
    if (stop === -1 || masked[stop] !== ')') {
      warnings.push({
        code: 'prompt_inline_negative_ignored',
        message: `"${text.slice(open, open + 30)}…" looks like an inline negative but has no plain closing ")"; it is kept in the prompt as written`,
      });
      continue;
    }
    groups.push({ start: open, end: stop + 1, terms: groupTerms(text.slice(open + 1, stop)) });
    consumedUntil = stop + 1;
  }

  let out = text;
  for (let i = groups.length - 1; i >= 0; i--) {
    out = joinAround(out.slice(0, groups[i].start), out.slice(groups[i].end));
  }
  return { text: out, negatives: groups.flatMap((g) => g.terms), warnings };
}

function groupTerms(content: string): string[] {
  let body = content.trim();
  let weight: string | null = null;
  const w = TRAILING_WEIGHT.exec(body);
  if (w && Number.isFinite(Number(w[1]))) {
    weight = w[1];
    body = body.slice(0, w.index).trim();
  }
  return body
    .replace(/^-/, '')
    .split(TERM_SPLIT)
    .map((t) => t.replace(/^-/, '').trim().replace(/[\s,]+$/, '').trim())
    .filter((t) => t !== '')
    .map((t) => (weight !== null && Number(weight) !== 1 ? `(${t}:${weight})` : t));
}

function findFirst(s: string, from: number, chars: string): number {
  for (let i = from; i < s.length; i++) if (chars.includes(s[i])) return i;
  return -1;
}
