/**
 * `it` where `condition` holds, else `it.skip` with `reason` in the title: a spec that cannot run
 * here (an optional component is absent) reports itself skipped, never a silent green.
 */
export function itIf(
  condition: boolean,
  reason: string,
): (name: string, fn: jest.ProvidesCallback, timeout?: number) => void {
  return (name, fn, timeout) =>
    condition ? it(name, fn, timeout) : it.skip(`${name} [skipped: ${reason}]`, fn, timeout);
}

/** `describe` where `condition` holds, else `describe.skip` with `reason` in the title. */
export function describeIf(condition: boolean, reason: string): (name: string, fn: () => void) => void {
  return (name, fn) => (condition ? describe(name, fn) : describe.skip(`${name} [skipped: ${reason}]`, fn));
}
