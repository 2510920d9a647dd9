import type { ArtifactReader, ArtifactWriter } from './artifact-store';

/** Keeps artifacts in a Map. Useful in tests and to move a model between stores in one process. */
export class InMemoryArtifactStore implements ArtifactReader, ArtifactWriter {
  private readonly objects = new Map<string, { data: Uint8Array; contentType?: string }>();

  async get(key: string): Promise<Uint8Array> {
    const entry = this.objects.get(key);
    if (!entry) throw new Error(`no object at key ${key}`);
    return entry.data.slice();
  }

  async size(key: string): Promise<number | null> {
    return this.objects.get(key)?.data.byteLength ?? null;
  }

  async put(key: string, data: Uint8Array, contentType?: string): Promise<void> {
    this.objects.set(key, { data: data.slice(), contentType });
  }

  delete(key: string): boolean {
    return this.objects.delete(key);
  }

  keys(): string[] {
    return [...this.objects.keys()].sort();
  }

  contentType(key: string): string | undefined {
    return this.objects.get(key)?.contentType;
  }
}
