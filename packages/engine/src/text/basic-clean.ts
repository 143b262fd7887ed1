/**
 * The pre-tokenisation transformers' slow CLIPTokenizer applies when ftfy is not installed:
 * its BasicTokenizer with strip_accents=False and do_split_on_punc=False. It drops NUL, U+FFFD
 * and every "C*" character (control, format, unassigned, private use), turns other whitespace
 * (including Zs such as U+00A0) into spaces, isolates CJK ideographs as words, NFC-normalises,
 * lower-cases and splits on whitespace. Accents and punctuation are left alone.
 */
const OTHER = /\p{C}/u;
const ZS = /\p{Zs}/u;
const SPLIT = /\s+/u;

/** CJK Unified Ideographs blocks as BERT defines them (kana and hangul are not included). */
function isCjkIdeograph(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) || (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

/** Words of `text` after BasicTokenizer's cleaning, lower-cased. */
export function basicTokenize(text: string): string[] {
  let cleaned = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ZS.test(ch)) cleaned += ' ';
    else if (cp === 0 || cp === 0xfffd || OTHER.test(ch)) continue;
    else if (isCjkIdeograph(cp)) cleaned += ` ${ch} `;
    else cleaned += ch;
  }
  return cleaned.normalize('NFC').split(SPLIT).filter((w) => w.length > 0).map((w) => w.toLowerCase());
}
