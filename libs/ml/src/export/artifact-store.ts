/**
 * Pluggable byte stores for model artifacts. The object-store library (libs/storage) implements
 * them over S3/MinIO; this folder ships an in-memory and a filesystem implementation.
 * Keys are '/'-separated, relative to the store's root (e.g. `tenants/t1/models/m1/model.json`).
 */
export interface ArtifactReader {
  /** Resolves with the object's bytes; rejects if the key does not exist. */
  get(key: string): Promise<Uint8Array>;
  /**
   * The object's size in bytes, or null if it does not exist. Optional, but without it a file is read
   * whole before its size can be refused (a hostile model could name a huge object).
   */
  size?(key: string): Promise<number | null>;
}

export interface ArtifactWriter {
  put(key: string, data: Uint8Array, contentType?: string): Promise<void>;
}
