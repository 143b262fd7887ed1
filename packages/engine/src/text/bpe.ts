/**
 * CLIP's byte-pair encoding of one pre-token: the last symbol carries the end-of-word marker
 * `</w>`, then the adjacent pair with the lowest merge rank is merged (every occurrence, left to
 * right) until no ranked pair is left. Results are cached per pre-token.
 */
export const END_OF_WORD = '</w>';

export class BytePairEncoder {
  private readonly ranks: ReadonlyMap<string, number>;
  private readonly cache = new Map<string, readonly string[]>();

  /** `ranks` maps "first second" to the merge's rank (its line order in merges.txt). */
  constructor(ranks: ReadonlyMap<string, number>, verbatim: readonly string[] = []) {
    this.ranks = ranks;
    // Special tokens met by the pre-token regex stay whole, without `</w>`.
    for (const token of verbatim) this.cache.set(token, [token]);
  }

  encode(token: string): readonly string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const symbols = Array.from(token);
    symbols[symbols.length - 1] += END_OF_WORD;
    let word = symbols;
    while (word.length > 1) {
      let bestRank = Infinity;
      let first = '';
      let second = '';
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.ranks.get(word[i] + ' ' + word[i + 1]);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          first = word[i]!;
          second = word[i + 1]!;
        }
      }
      if (bestRank === Infinity) break;
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i++;
        } else {
          merged.push(word[i]!);
        }
      }
      word = merged;
    }
    this.cache.set(token, word);
    return word;
  }
}
