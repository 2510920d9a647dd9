import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Where the CLI keeps what `login` saved (and resumable upload states): MODELSMITH_CONFIG_DIR or ~/.config/modelsmith. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MODELSMITH_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'modelsmith');
}

export interface Credentials {
  url: string;
  apiKey: string;
}

/**
 * The API to talk to and the key to use: flags first, then MODELSMITH_URL / MODELSMITH_API_KEY, then
 * what `modelsmith login` saved. Undefined fields are what is still missing.
 */
export async function resolveCredentials(
  flags: { url?: string; key?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<Partial<Credentials>> {
  const saved = await readSaved(env);
  return {
    url: flags.url || env.MODELSMITH_URL || saved?.url,
    apiKey: flags.key || env.MODELSMITH_API_KEY || saved?.apiKey,
  };
}

async function readSaved(env: NodeJS.ProcessEnv): Promise<Partial<Credentials> | undefined> {
  try {
    const raw = JSON.parse(await readFile(join(configDir(env), 'config.json'), 'utf8')) as unknown;
    if (!raw || typeof raw !== 'object') return undefined;
    const { url, apiKey } = raw as Record<string, unknown>;
    return {
      ...(typeof url === 'string' ? { url } : {}),
      ...(typeof apiKey === 'string' ? { apiKey } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Saves the credentials readable by the user only (the key is a secret). Returns the file written. */
export async function saveCredentials(c: Credentials, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = join(configDir(env), 'config.json');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}
