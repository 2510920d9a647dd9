/** API-key scopes. ADMIN implies all others within its tenant. */
export const SCOPES = ['ADMIN', 'TRAIN', 'PREDICT', 'READ'] as const;
export type Scope = (typeof SCOPES)[number];

export function scopeSatisfies(granted: readonly Scope[], required: Scope): boolean {
  if (granted.includes('ADMIN')) return true;
  if (granted.includes(required)) return true;
  // Training and predicting both need to read what they act on.
  return required === 'READ' && (granted.includes('TRAIN') || granted.includes('PREDICT'));
}
