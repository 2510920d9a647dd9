import type { Command } from 'commander';
import { ModelsmithClient } from '@modelsmith/sdk';
import { resolveCredentials } from './config';
import { Output } from './output';

export interface GlobalOptions {
  url?: string;
  key?: string;
  json?: boolean;
}

export class UsageError extends Error {}

/** What every command gets: the output, and (lazily, so `login` and `--help` need none) the client. */
export interface Context {
  out: Output;
  client(): Promise<ModelsmithClient>;
}

export function contextOf(cmd: Command): Context {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const out = new Output(Boolean(g.json));
  return {
    out,
    async client() {
      const c = await resolveCredentials(g);
      if (!c.url || !c.apiKey)
        throw new UsageError(
          `no ${!c.url ? 'API URL' : 'API key'}: run \`modelsmith login --url <api> --key <msk_…>\`, ` +
            'set MODELSMITH_URL and MODELSMITH_API_KEY, or pass --url and --key',
        );
      return new ModelsmithClient({ baseUrl: c.url, apiKey: c.apiKey, userAgent: 'modelsmith-cli' });
    },
  };
}

/** A positive integer option, or a UsageError naming the flag. */
export function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got "${v}"`);
    return n;
  };
}
