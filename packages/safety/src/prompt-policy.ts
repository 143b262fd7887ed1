// The prompt blocklist (PROMPT_BLOCKLIST_FILE): one term or /regex/flags per line, `#` comments.
// A prompt matches after Unicode NFKC normalisation, case-insensitively, terms on word boundaries
// (letters, digits and _ around them do not count as a boundary). A coarse filter: it stops the
// obvious, not the determined.
import { readFile } from 'node:fs/promises';

const WORD = '[\\p{L}\\p{N}_]';

export class PromptPolicyError extends Error {
  override name = 'PromptPolicyError';
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function termPattern(term: string): RegExp {
  const words = term.normalize('NFKC').trim().split(/\s+/).map(escapeRegExp);
  return new RegExp(`(?<!${WORD})${words.join('\\s+')}(?!${WORD})`, 'iu');
}

export class PromptPolicy {
  readonly #patterns: RegExp[];

  constructor(patterns: RegExp[]) {
    this.#patterns = patterns;
  }

  get size(): number {
    return this.#patterns.length;
  }

  /** Parses the file's text; `source` names it in errors (a bad regex names its line). */
  static parse(text: string, source = 'blocklist'): PromptPolicy {
    const patterns: RegExp[] = [];
    for (const [i, raw] of text.split(/\r?\n/).entries()) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const re = /^\/(.+)\/([a-z]*)$/.exec(line);
      if (re) {
        const flags = new Set([...re[2]!, 'i', 'u']);
        flags.delete('g'); // a global regex keeps state between test() calls
        flags.delete('y');
        try {
          patterns.push(new RegExp(re[1]!, [...flags].join('')));
        } catch (err) {
          throw new PromptPolicyError(`${source}:${i + 1}: invalid regular expression: ${(err as Error).message}`);
        }
      } else {
        patterns.push(termPattern(line));
      }
    }
    return new PromptPolicy(patterns);
  }

  static async fromFile(file: string): Promise<PromptPolicy> {
    return PromptPolicy.parse(await readFile(file, 'utf8'), file);
  }

  /** Whether any entry matches one of the texts. */
  blocks(...texts: Array<string | undefined | null>): boolean {
    for (const text of texts) {
      if (!text) continue;
      const normalised = text.normalize('NFKC');
      if (this.#patterns.some((p) => p.test(normalised))) return true;
    }
    return false;
  }
}
