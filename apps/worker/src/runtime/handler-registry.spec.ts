import { z } from 'zod';
import type { JobDefinition } from '@modelsmith/contracts';
import { buildHandlerMap, HandlerRegistrationError } from './handler-registry';

const def = (name: string): JobDefinition => ({
  name,
  version: 1,
  payload: z.object({}),
  inputs: z.object({}),
  queues: ['cpu'],
  kind: 'NOOP',
});
const a = def('a');
const b = def('b');

describe('buildHandlerMap', () => {
  it('maps each job to its single handler', () => {
    const map = buildHandlerMap(
      [a, b],
      [
        { def: a, handler: 'ha', name: 'HA' },
        { def: b, handler: 'hb', name: 'HB' },
      ],
    );
    expect(map.get('a@v1')).toBe('ha');
    expect(map.get('b@v1')).toBe('hb');
  });

  it('refuses a job without a handler', () => {
    expect(() => buildHandlerMap([a, b], [{ def: a, handler: 1, name: 'HA' }])).toThrow(
      /b@v1 has no handler/,
    );
  });

  it('refuses a job with two handlers, naming both', () => {
    expect(() =>
      buildHandlerMap(
        [a],
        [
          { def: a, handler: 1, name: 'First' },
          { def: a, handler: 2, name: 'Second' },
        ],
      ),
    ).toThrow(/a@v1 has 2 handlers \(First, Second\)/);
  });

  it('refuses a handler for an undefined job', () => {
    expect(() =>
      buildHandlerMap(
        [a],
        [
          { def: a, handler: 1, name: 'HA' },
          { def: def('zzz'), handler: 2, name: 'Z' },
        ],
      ),
    ).toThrow(HandlerRegistrationError);
  });
});
