import type { TextStats } from '../stats/report-types';
import { NumericAccumulator } from '../stats/summary';

const TOKEN_SPLIT = /[^\p{L}\p{N}']+/u;

export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(TOKEN_SPLIT)
    .filter((t) => t !== '');
}

/** Text length and vocabulary statistics; the vocabulary is exact up to `maxVocabulary` tokens. */
export class TextStatsAccumulator {
  private readonly length = new NumericAccumulator();
  private readonly tokens = new NumericAccumulator();
  private readonly vocab = new Map<string, number>();
  private vocabCapped = false;
  shortTexts = 0;

  constructor(private readonly maxVocabulary = 200_000) {}

  add(text: string): void {
    const toks = tokenize(text);
    this.length.add(Array.from(text).length);
    this.tokens.add(toks.length);
    if (toks.length < 3) this.shortTexts += 1;
    for (const t of toks) {
      const n = this.vocab.get(t);
      if (n !== undefined) this.vocab.set(t, n + 1);
      else if (this.vocab.size < this.maxVocabulary) this.vocab.set(t, 1);
      else this.vocabCapped = true;
    }
  }

  get count(): number {
    return this.length.count;
  }

  result(): TextStats {
    const top = [...this.vocab.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 20);
    return {
      length: this.length.summary(),
      tokens: this.tokens.summary(),
      vocabularySize: this.vocab.size,
      vocabularyCapped: this.vocabCapped,
      topTokens: top.map(([token, count]) => ({ token, count })),
    };
  }
}
