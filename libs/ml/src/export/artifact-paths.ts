import { ModelArtifactError } from './artifact-errors';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const MAX_PATH_LENGTH = 512;

/**
 * Checks a path found inside a manifest (a weight shard path, a file-list entry): it must be
 * relative, '/'-separated, made of plain segments (no '.', '..', empty segments, backslashes,
 * URL schemes, drive letters or control characters). Returns it unchanged when safe.
 */
export function assertSafeRelativePath(path: string, what: string): string {
  const fail = (why: string): never => {
    throw new ModelArtifactError(
      'ARTIFACT_PATH_UNSAFE',
      `${what} path ${JSON.stringify(path)} is refused: ${why}`,
    );
  };
  if (typeof path !== 'string' || path.length === 0) fail('empty');
  if (path.length > MAX_PATH_LENGTH) fail(`longer than ${MAX_PATH_LENGTH} characters`);
  if (path.startsWith('/') || path.startsWith('\\')) fail('absolute');
  if (path.includes('\\')) fail('backslash');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(path)) fail('scheme or drive letter');
  for (const segment of path.split('/')) {
    if (segment === '..' || segment === '.') fail('dot segment');
    if (segment === '') fail('empty segment');
    if (!SEGMENT.test(segment)) fail('characters outside [A-Za-z0-9._-]');
  }
  return path;
}

/** Normalizes a store prefix to '' or 'a/b/' form; the prefix itself must be a safe relative path. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  if (trimmed === '') return '';
  assertSafeRelativePath(trimmed, 'prefix');
  return `${trimmed}/`;
}

/** Joins a normalized prefix with a path that has been checked by assertSafeRelativePath. */
export function joinKey(prefix: string, relativePath: string): string {
  return `${normalizePrefix(prefix)}${assertSafeRelativePath(relativePath, 'artifact')}`;
}
