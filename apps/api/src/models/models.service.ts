import { Inject, Injectable } from '@nestjs/common';
import { PassThrough } from 'node:stream';
import { ZipFile } from 'yazl';
import type { AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { ModelStore, type ModelWithLineage, type TypedModel } from '@modelsmith/jobs';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { notFound, ProblemError } from '@modelsmith/http';
import { page, type Page } from '../common/pagination';
import { modelReadme } from './model-readme';

const ARCHIVE = 'download/model.zip';

@Injectable()
export class ModelsService {
  constructor(
    private readonly models: ModelStore,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(tenantId: string, limit: number, cursor?: string): Promise<Page<TypedModel>> {
    return page(await this.models.listReady(tenantId, limit + 1, cursor), limit);
  }

  async get(tenantId: string, id: string): Promise<ModelWithLineage> {
    const model = await this.models.getReadyWithLineage(tenantId, id);
    if (!model) throw notFound('model', id);
    return model;
  }

  /**
   * One zip (model.json, weight shards, manifest.json, evaluation.json, training-curves.json, and a
   * README.md written from the manifest: preprocessing, test-time averaging) built
   * in the object store on first request, streamed part by part, and handed out as a presigned URL.
   */
  async download(
    tenantId: string,
    id: string,
  ): Promise<{ url: string; expiresInSeconds: number; sizeBytes: number }> {
    const model = await this.get(tenantId, id);
    const key = keys.within(model.artifactPrefix, ARCHIVE);
    let stat = await this.store.stat(key);
    if (!stat || stat.lastModified < model.updatedAt) {
      const files: string[] = [];
      for await (const o of this.store.list(model.artifactPrefix)) {
        const rel = o.key.slice(model.artifactPrefix.length);
        if (!rel.startsWith('download/')) files.push(rel);
      }
      const zip = new ZipFile();
      const out = new PassThrough();
      // Every stream's errors are heard: a source read that fails (an object store outage mid-zip)
      // fails the zip (yazl emits it on the ZipFile) and the upload, not the process.
      zip.on('error', (e: Error) => out.destroy(e));
      zip.outputStream.on('error', (e: Error) => out.destroy(e));
      zip.outputStream.pipe(out);
      const upload = this.store.putStream(key, out, { contentType: 'application/zip' });
      upload.catch(() => undefined); // awaited below; a rejection before then must not go unhandled
      try {
        for (const rel of files.sort()) {
          const source = await this.store.getStream(keys.within(model.artifactPrefix, rel));
          source.on('error', (e: Error) => out.destroy(e));
          zip.addReadStream(source, rel);
        }
        if (!files.includes('README.md'))
          zip.addBuffer(
            Buffer.from(modelReadme(model.name, model.manifest as Record<string, unknown> | null)),
            'README.md',
          );
        zip.end();
      } catch (e) {
        out.destroy(e instanceof Error ? e : new Error(String(e)));
        await upload.catch(() => undefined);
        throw e;
      }
      await upload;
      stat = await this.store.stat(key);
    }
    const name = `${model.name.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 80) || 'model'}-${model.id.slice(0, 8)}.zip`;
    const expires = this.config.S3_PRESIGN_EXPIRY_SECONDS;
    return {
      url: await this.store.presignedGet(key, expires, { downloadName: name }),
      expiresInSeconds: expires,
      sizeBytes: stat?.size ?? 0,
    };
  }

  /** Marks the model deleted and removes its artifacts; refused (409) while an ACTIVE deployment serves it. */
  async delete(tenantId: string, id: string): Promise<void> {
    const model = await this.get(tenantId, id);
    const r = await this.models.markDeleted(tenantId, id);
    if (!r.deleted) {
      throw new ProblemError({
        status: 409,
        code: 'CONFLICT',
        title: 'Model is deployed',
        detail: `model ${id} is served by ${r.servedBy.map((d) => `deployment ${d.id} (${d.name})`).join(', ')}; undeploy it or swap its model first`,
        extensions: { deployments: r.servedBy.map((d) => d.id) },
      });
    }
    await this.store.deletePrefix(model.artifactPrefix);
  }
}
