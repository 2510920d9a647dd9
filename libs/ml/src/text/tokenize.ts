import { z } from 'zod';

/**
 * Unicode-aware tokenization for text classification, with no assumption about the language:
 *
 * - text is normalized to NFKC (full-width forms, ligatures and compatibility characters fold into
 *   their plain forms) and case-folded with the locale-independent `toLowerCase`;
 * - a word is a run of letters, combining marks and digits of any script (`\p{L}\p{M}\p{N}`, so
 *   Arabic, Devanagari or Cyrillic words stay whole with their marks), with inner apostrophes kept;
 * - scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar, Tibetan) are
 *   split into overlapping character bigrams plus single characters, as CJK analyzers do (no
 *   dictionary needed, and the character n-grams of the featurizer see them too);
 * - each emoji (with its modifiers and ZWJ sequence) is a token of its own; other punctuation and
 *   symbols separate tokens.
 *
 * The rules are a pure function of the config, so a downloaded model tokenizes exactly as training did.
 */
export const tokenizerConfigSchema = z.object({
  version: z.literal(1),
  normalization: z.enum(['NFKC', 'NFC', 'none']),
  lowercase: z.boolean(),
  /** Bigrams (and unigrams) of characters for runs of scripts written without spaces. */
  unsegmentedScripts: z.enum(['char-bigrams', 'chars']),
  emoji: z.boolean(),
});
export type TokenizerConfig = z.infer<typeof tokenizerConfigSchema>;

export const DEFAULT_TOKENIZER: TokenizerConfig = {
  version: 1,
  normalization: 'NFKC',
  lowercase: true,
  unsegmentedScripts: 'char-bigrams',
  emoji: true,
};

/** Scripts written without spaces between words. */
const UNSEGMENTED =
  /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}\u30FC\u3005]+$/u;
const UNSEGMENTED_CHAR =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}\u30FC\u3005]/u;

/**
 * One token: an emoji sequence, or a word (letters/marks/digits, inner apostrophes or joiners kept).
 * The emoji alternative comes first so that keycap and flag sequences are not split.
 */
const TOKEN =
  /(\p{Extended_Pictographic}(?:\uFE0F|\p{Emoji_Modifier}|\u200D\p{Extended_Pictographic}\uFE0F?)*|\p{Regional_Indicator}{2})|([\p{L}\p{M}\p{N}]+(?:['’\u200C\u200D][\p{L}\p{M}\p{N}]+)*)/gu;

export function normalizeText(text: string, config: TokenizerConfig = DEFAULT_TOKENIZER): string {
  let t = config.normalization === 'none' ? text : text.normalize(config.normalization);
  if (config.lowercase) t = t.toLowerCase();
  return t;
}

/** Splits a run of an unsegmented script (or a word mixing it with others) into its pieces. */
function splitUnsegmented(word: string, mode: TokenizerConfig['unsegmentedScripts'], out: string[]): void {
  // Runs of segmented characters (e.g. Latin inside Japanese) stay words; unsegmented runs split.
  let run = '';
  let runUnsegmented = false;
  const flush = () => {
    if (run === '') return;
    if (!runUnsegmented) out.push(run);
    else {
      const chars = Array.from(run);
      for (let i = 0; i < chars.length; i++) {
        out.push(chars[i]);
        if (mode === 'char-bigrams' && i + 1 < chars.length) out.push(chars[i] + chars[i + 1]);
      }
    }
    run = '';
  };
  for (const ch of word) {
    const u: boolean = UNSEGMENTED_CHAR.test(ch) || (runUnsegmented && /\p{M}/u.test(ch));
    if (run !== '' && u !== runUnsegmented) flush();
    runUnsegmented = u;
    run += ch;
  }
  flush();
}

/** Word-level tokens of already normalized text (see {@link normalizeText}). */
export function tokenizeNormalized(text: string, config: TokenizerConfig = DEFAULT_TOKENIZER): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m !== null; m = TOKEN.exec(text)) {
    if (m[1] !== undefined) {
      if (config.emoji) out.push(m[1]);
      continue;
    }
    const word = m[2];
    if (UNSEGMENTED_CHAR.test(word)) {
      if (UNSEGMENTED.test(word) && Array.from(word).length === 1) out.push(word);
      else splitUnsegmented(word, config.unsegmentedScripts, out);
    } else out.push(word);
  }
  return out;
}

/** Normalizes and tokenizes `text`. */
export function tokenize(text: string, config: TokenizerConfig = DEFAULT_TOKENIZER): string[] {
  return tokenizeNormalized(normalizeText(text, config), config);
}
