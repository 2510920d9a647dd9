#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerDatasets } from './commands/datasets';
import { registerJobs } from './commands/jobs';
import { registerLogin } from './commands/login';
import { registerModels } from './commands/models';
import { contextOf, UsageError } from './context';
import { failureMessage } from './output';

/** The `modelsmith` command line, on the typed SDK (libs/sdk). */
export function buildProgram(): Command {
  const program = new Command('modelsmith')
    .description('Modelsmith from the command line: upload data, train, deploy, predict')
    .option('--url <url>', 'the API (default: MODELSMITH_URL, else what login saved)')
    .option('--key <key>', 'API key (default: MODELSMITH_API_KEY, else what login saved)')
    .option('--json', 'print results as JSON (for scripts); no progress bars')
    .showHelpAfterError()
    .exitOverride();
  registerLogin(program);
  registerDatasets(program);
  registerJobs(program);
  registerModels(program);
  program
    .command('backbones')
    .description('the model zoo: backbones a training job can use')
    .action(async (_o: unknown, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      out.result(await c.ok(c.api.GET('/v1/backbones')));
    });
  return program;
}

/** Runs the CLI; resolves with the exit code: 0 ok, 1 failed (or a job failed), 2 cancelled job, 64 usage. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 64;
    process.stderr.write(`${failureMessage(e)}\n`);
    return e instanceof UsageError ? 64 : 1;
  }
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
