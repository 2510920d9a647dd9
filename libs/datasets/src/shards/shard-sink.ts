/** Where ingestion writes shards, the index and the report. The object-store lib implements it too. */
export interface ShardSink {
  put(key: string, data: Uint8Array | NodeJS.ReadableStream): Promise<void>;
}

/** Where training reads shards back from. */
export interface ShardSource {
  get(key: string): Promise<Uint8Array>;
}
