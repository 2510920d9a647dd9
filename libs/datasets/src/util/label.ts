/** Path and control characters that may not appear in a label (they would break keys/paths). */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[/\\\u0000-\u001f\u007f:*?"<>|]/g;
const MAX_LABEL_LENGTH = 128;

export interface SanitizedLabel {
  label: string;
  changed: boolean;
}

/**
 * Normalizes a label: Unicode NFC, trimmed, path/control characters replaced by `_`, capped at
 * 128 characters. Unicode letters (e.g. `猫`, `café`) are kept. Returns an empty label when
 * nothing usable remains.
 */
export function sanitizeLabel(raw: string): SanitizedLabel {
  const normalized = raw.normalize('NFC').trim();
  let label = normalized.replace(UNSAFE, '_');
  if (label === '.' || label === '..') label = label.replace(/\./g, '_');
  label = Array.from(label).slice(0, MAX_LABEL_LENGTH).join('');
  return { label, changed: label !== raw };
}
