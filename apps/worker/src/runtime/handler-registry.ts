import { bullJobName, type JobDefinition } from '@modelsmith/contracts';

export class HandlerRegistrationError extends Error {
  readonly code = 'HANDLER_REGISTRATION';
}

/**
 * Maps every job definition to its one handler. Throws, naming the jobs, when a definition has no
 * handler, two handlers, or a handler claims a job nobody defined.
 */
export function buildHandlerMap<H>(
  definitions: readonly JobDefinition[],
  handlers: ReadonlyArray<{ def: JobDefinition; handler: H; name: string }>,
): Map<string, H> {
  const known = new Set(definitions.map(bullJobName));
  const claims = new Map<string, string[]>();
  const map = new Map<string, H>();
  for (const { def, handler, name } of handlers) {
    const key = bullJobName(def);
    if (!known.has(key))
      throw new HandlerRegistrationError(`${name} handles ${key}, which is not a defined job`);
    claims.set(key, [...(claims.get(key) ?? []), name]);
    map.set(key, handler);
  }
  const problems: string[] = [];
  for (const key of known) {
    const owners = claims.get(key) ?? [];
    if (owners.length === 0) problems.push(`${key} has no handler`);
    if (owners.length > 1) problems.push(`${key} has ${owners.length} handlers (${owners.join(', ')})`);
  }
  if (problems.length)
    throw new HandlerRegistrationError(`job handlers misconfigured: ${problems.join('; ')}`);
  return map;
}
