import { normalizeText, tokenize } from './tokenize';

describe('tokenize', () => {
  it('lower-cases and splits Latin text on spaces and punctuation, keeping inner apostrophes', () => {
    expect(tokenize("Don't PANIC: it's 42!")).toEqual(["don't", 'panic', "it's", '42']);
  });

  it('NFKC-folds full-width letters and ligatures before case folding', () => {
    expect(normalizeText('ＡＢＣ ﬁne')).toBe('abc fine');
    expect(tokenize('ＨＥＬＬＯ　Ｗｏｒｌｄ')).toEqual(['hello', 'world']);
  });

  it('keeps accented and non-Latin words whole (German, Greek, Cyrillic)', () => {
    expect(tokenize('Größe ändern — Ελληνικά и Русский')).toEqual([
      'größe',
      'ändern',
      'ελληνικά',
      'и',
      'русский',
    ]);
  });

  it('keeps Arabic words with their marks, and Arabic-Indic digits', () => {
    expect(tokenize('مَرْحَبًا بالعالم ١٢٣')).toEqual(['مَرْحَبًا', 'بالعالم', '١٢٣']);
  });

  it('keeps Devanagari words whole with their combining vowel signs', () => {
    expect(tokenize('नमस्ते दुनिया')).toEqual(['नमस्ते', 'दुनिया']);
  });

  it('splits Chinese (no spaces) into characters and character bigrams', () => {
    expect(tokenize('我爱北京')).toEqual(['我', '我爱', '爱', '爱北', '北', '北京', '京']);
  });

  it('splits Japanese kana and kanji runs, and keeps Latin words inside them whole', () => {
    expect(tokenize('東京はAI')).toEqual(['東', '東京', '京', '京は', 'は', 'ai']);
  });

  it('splits Thai into character pieces rather than one token per sentence', () => {
    const t = tokenize('สวัสดีครับ');
    expect(t.length).toBeGreaterThan(5);
    expect(t).toContain('ส');
  });

  it('makes each emoji a token, with skin tones and ZWJ sequences kept together', () => {
    expect(tokenize('great 👍🏽 family 👨‍👩‍👧 ❤️!')).toEqual(['great', '👍🏽', 'family', '👨‍👩‍👧', '❤️']);
  });

  it('gives no tokens for punctuation and whitespace only', () => {
    expect(tokenize('  ...!!! --- ')).toEqual([]);
    expect(tokenize('')).toEqual([]);
  });
});
