import { Client } from 'minio';

export interface UploadedPartInfo {
  partNumber: number;
  etag: string;
  size: number;
  lastModified?: Date;
}

/** The minio client with its protected `listParts` made reachable. */
export class StoreClient extends Client {
  async listUploadedParts(bucket: string, key: string, uploadId: string): Promise<UploadedPartInfo[]> {
    const parts = await this.listParts(bucket, key, uploadId);
    return parts.map((p) => ({
      partNumber: p.part,
      etag: p.etag,
      size: p.size,
      lastModified: p.lastModified,
    }));
  }
}
