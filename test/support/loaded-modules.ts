import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/**
 * Files in Node's module cache after a fresh `node` requires `entry` (a .ts path from the repository
 * root, compiled on the fly by tsx, which also resolves the tsconfig paths). Jest's own module
 * registry is no evidence of what Node would load, hence the child process.
 */
export async function modulesLoadedBy(entry: string): Promise<string[]> {
  const script = `require(${JSON.stringify(join(root, entry))}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const { stdout } = await run(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as string[];
}

export const tensorflowModules = (files: string[]): string[] =>
  files.filter((file) => file.includes('/node_modules/@tensorflow/'));

/** Files of Nest (@nestjs/*, and nestjs-pino, which loads it) among `files`. */
export const nestModules = (files: string[]): string[] =>
  files.filter((file) => /\/node_modules\/(@nestjs\/|nestjs-pino\/)/.test(file));
