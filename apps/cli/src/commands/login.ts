import type { Command } from 'commander';
import { ModelsmithClient } from '@modelsmith/sdk';
import { saveCredentials } from '../config';
import { contextOf, UsageError } from '../context';

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('check an API key against the API and save both for the next commands')
    .option('--url <url>', 'the API, e.g. http://127.0.0.1:3000')
    .option('--key <key>', 'an API key (msk_…)')
    .action(async (o: { url?: string; key?: string }, cmd: Command) => {
      const { out } = contextOf(cmd);
      const g = cmd.optsWithGlobals<{ url?: string; key?: string }>();
      const url = o.url ?? g.url;
      const apiKey = o.key ?? g.key;
      if (!url || !apiKey) throw new UsageError('login needs --url and --key');
      const client = new ModelsmithClient({ baseUrl: url, apiKey, userAgent: 'modelsmith-cli' });
      // Any authenticated read proves the key; listing one dataset is the cheapest.
      await client.ok(client.api.GET('/v1/datasets', { params: { query: { limit: 1 } } }));
      const file = await saveCredentials({ url, apiKey });
      out.result({ url, saved: file }, () => `logged in to ${url} (saved to ${file})`);
    });
}
