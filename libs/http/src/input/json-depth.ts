/**
 * Nesting depth of a JSON text, measured on its bytes before it is parsed. Deeply nested input
 * (`[[[[...]]]]` 20,000 levels down) parses fine, then overflows the stack of whatever walks it
 * recursively (class-transformer, class-validator, Prisma's JSON serializer): refuse it up front.
 */

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/** Depth the API accepts in request bodies: far more than any of its documents nests (4 levels). */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether the UTF-8 JSON text `bytes` nests objects/arrays more than `maxDepth` levels deep. Scans
 * bytes (in UTF-8 no byte of a multi-byte character is below 0x80, so structural characters and
 * quotes are unambiguous), skipping string contents with their escapes; stops at the first level
 * too deep. Malformed JSON is left to the parser: this only measures depth.
 */
export function jsonDepthExceeds(bytes: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      if (++depth > maxDepth) return true;
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}
