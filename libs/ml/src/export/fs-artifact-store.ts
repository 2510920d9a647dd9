import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ArtifactReader, ArtifactWriter } from './artifact-store';
import { assertSafeRelativePath } from './artifact-paths';

/**
 * Stores each key as a file under `rootDir` (key segments become directories). Keys are checked
 * like manifest paths, so nothing is read or written outside rootDir. Writes are atomic
 * (temporary file + rename).
 */
export class FileSystemArtifactStore implements ArtifactReader, ArtifactWriter {
  private readonly root: string;

  constructor(rootDir: string) {
    this.root = resolve(rootDir);
  }

  async get(key: string): Promise<Uint8Array> {
    const buffer = await readFile(this.pathOf(key));
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  async size(key: string): Promise<number | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? s.size : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, data);
    await rename(temporary, target);
  }

  /** Absolute filesystem path of a key (after the safety check). */
  pathOf(key: string): string {
    const path = resolve(join(this.root, assertSafeRelativePath(key, 'key')));
    if (!path.startsWith(this.root + sep)) throw new Error(`key ${key} escapes the store root`);
    return path;
  }
}
