import { Client } from 'minio';
import type { UploadedPartInfo } from './object-store';

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
