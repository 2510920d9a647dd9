/**
 * Deep copy of JSON data. Used instead of structuredClone, whose copies belong to the host realm:
 * tfjs checks `instanceof Array` on topologies, which fails across realms (e.g. under jest).
 */
export function jsonClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
