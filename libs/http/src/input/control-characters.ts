/**
 * Control characters in client strings. A NUL cannot be stored by Postgres (text or jsonb: the query
 * fails), and the other C0/C1 controls and lone UTF-16 surrogates have no business in names, ids or
 * options: they are refused at the door, naming the field, instead of failing deep inside as a 500.
 */

/** Tab, line feed and carriage return: allowed in free text only. */
const TEXT_WHITESPACE = new Set([0x09, 0x0a, 0x0d]);

export interface UnsafeCharacter {
  /** UTF-16 index of the first offending character. */
  index: number;
  /** The offending code point, as U+XXXX. */
  codePoint: string;
}

const hex = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * The first character of `s` that a client string may not carry: C0 controls (U+0000-U+001F),
 * DEL (U+007F), C1 controls (U+0080-U+009F) and unpaired surrogates. With `allowTextWhitespace`,
 * tab, line feed and carriage return are allowed (multi-line free text). Null when `s` is clean.
 */
export function findUnsafeCharacter(s: string, allowTextWhitespace = false): UnsafeCharacter | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      if (allowTextWhitespace && TEXT_WHITESPACE.has(c)) continue;
      return { index: i, codePoint: hex(c) };
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return { index: i, codePoint: hex(c) };
    }
    if (c >= 0xdc00 && c <= 0xdfff) return { index: i, codePoint: hex(c) };
  }
  return null;
}

/** The message a client gets for an unsafe character in one field. */
export function unsafeCharacterMessage(found: UnsafeCharacter): string {
  return `must not contain control characters or unpaired surrogates (found ${found.codePoint} at index ${found.index})`;
}

export interface UnsafeField {
  field: string;
  messages: string[];
}

/** Deeper than this, a value is refused as a whole (bodies are depth-checked before parsing anyway). */
const MAX_WALK_DEPTH = 64;

/**
 * Every string (and object key) in `value` that carries an unsafe character, with its dotted path
 * (`config.name`, `scopes.1`). `allowTextWhitespace(path, key)` says which fields are free text.
 */
export function findUnsafeStrings(
  value: unknown,
  root: string,
  allowTextWhitespace: (path: string, key: string) => boolean = () => false,
): UnsafeField[] {
  const out: UnsafeField[] = [];
  const visit = (v: unknown, path: string, key: string, depth: number): void => {
    if (typeof v === 'string') {
      const found = findUnsafeCharacter(v, allowTextWhitespace(path, key));
      if (found) out.push({ field: path, messages: [unsafeCharacterMessage(found)] });
      return;
    }
    if (typeof v !== 'object' || v === null || v instanceof Date || Buffer.isBuffer(v)) return;
    if (depth >= MAX_WALK_DEPTH) {
      out.push({ field: path, messages: [`is nested deeper than ${MAX_WALK_DEPTH} levels`] });
      return;
    }
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      const childPath = path ? `${path}.${k}` : k;
      const badKey = findUnsafeCharacter(k);
      if (badKey)
        out.push({
          field: path || root,
          messages: [`has a member name that ${unsafeCharacterMessage(badKey)}`],
        });
      else visit(child, childPath, k, depth + 1);
    }
  };
  visit(value, root, root, 0);
  return out;
}
