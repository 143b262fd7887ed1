// Helpers shared by the rules that cut pieces out of the prompt (inline negatives, image tags).

const ESCAPABLE = new Set(['\\', '(', ')', '[', ']', '{', '}']);

/**
 * Same-length copy of `text` where every escaped pair (`\` + one of `\()[]{}`) is replaced by two
 * U+0001 characters, so a regex over the copy only sees syntax characters that are really syntax,
 * while match indexes stay valid in the original text. Pairs are read left to right, so `\\(`
 * is a literal backslash followed by a real `(` (as A1111 reads it).
 */
export function maskEscapes(text: string): string {
  if (!text.includes('\\')) return text; // nothing escaped (most prompts): the copy is the text
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && i + 1 < text.length && ESCAPABLE.has(text[i + 1])) {
      out += '\u0001\u0001';
      i++;
    } else {
      out += text[i];
    }
  }
  return out;
}

/**
 * Joins the text left and right of a removed piece so that no double spaces or doubled commas
 * are left behind: `a, (-x), b` → `a, b`; `(-x), a` → `a`; `a (-x)` → `a`.
 */
export function joinAround(before: string, after: string): string {
  const hadSpace = /\s$/.test(before) || /^\s/.test(after);
  let left = before.replace(/\s+$/, '');
  let right = after.replace(/^\s+/, '');
  if (right.startsWith(',') && (left === '' || left.endsWith(',') || /[([]$/.test(left))) {
    right = right.slice(1).replace(/^\s+/, '');
  }
  if (right === '' && left.endsWith(',')) left = left.slice(0, -1).replace(/\s+$/, '');
  if (left === '' || right === '') return left + right;
  // No space before closing punctuation: `(cat (-dog):1.2)` → `(cat:1.2)`.
  const space = hadSpace && !/^[,.;:)\]]/.test(right) && !/[([]$/.test(left);
  return left + (space ? ' ' : '') + right;
}
