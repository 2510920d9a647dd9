import { Inject, Injectable } from '@nestjs/common';
import { PassThrough } from 'node:stream';
import { ZipFile } from 'yazl';
import { APP_CONFIG, type AppConfig } from '@modelsmith/config';
import { APP_PRISMA, withTenant, type Model, type PrismaClient } from '@modelsmith/db';
import { OBJECT_STORE, type ObjectStore } from '@modelsmith/storage';
import { notFound, ProblemError } from '@modelsmith/http';
import { page, type Page } from '../common/pagination';

const ARCHIVE = 'download/model.zip';

@Injectable()
export class ModelsService {
  constructor(
    @Inject(APP_PRISMA) private readonly db: PrismaClient,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  list(tenantId: string, limit: number, cursor?: string): Promise<Page<Model>> {
    return withTenant(this.db, tenantId, async (tx) => {
      const rows = await tx.model.findMany({
        where: { status: 'READY' },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit + 1,
        ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      });
      return page(rows, limit);
    });
  }

  async get(tenantId: string, id: string) {
    const model = await withTenant(this.db, tenantId, (tx) =>
      tx.model.findFirst({
        where: { id, status: 'READY' },
        include: { job: { select: { id: true, mode: true, budget: true, options: true, metricHistory: true, createdAt: true, finishedAt: true } }, datasetVersion: { select: { id: true, version: true, datasetId: true } } },
      }),
    );
    if (!model) throw notFound('model', id);
    return model;
  }

  /**
   * One zip (model.json, weight shards, manifest.json, evaluation.json, training-curves.json) built
   * in the object store on first request, streamed part by part, and handed out as a presigned URL.
   */
  async download(tenantId: string, id: string): Promise<{ url: string; expiresInSeconds: number; sizeBytes: number }> {
    const model = await this.get(tenantId, id);
    const key = `${model.artifactPrefix}${ARCHIVE}`;
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
          const source = await this.store.getStream(`${model.artifactPrefix}${rel}`);
          source.on('error', (e: Error) => out.destroy(e));
          zip.addReadStream(source, rel);
        }
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
    return { url: await this.store.presignedGet(key, expires, { downloadName: name }), expiresInSeconds: expires, sizeBytes: stat?.size ?? 0 };
  }

  /** Marks the model deleted and removes its artifacts; refused (409) while an ACTIVE deployment serves it. */
  async delete(tenantId: string, id: string): Promise<void> {
    const model = await this.get(tenantId, id);
    await withTenant(this.db, tenantId, async (tx) => {
      await tx.$queryRaw`SELECT id FROM models WHERE id = ${id} FOR UPDATE`; // waits for a deploy of it in flight
      const serving = await tx.deployment.findMany({ where: { modelId: id, status: 'ACTIVE' }, select: { id: true, name: true } });
      if (serving.length > 0) {
        throw new ProblemError({
          status: 409,
          code: 'CONFLICT',
          title: 'Model is deployed',
          detail: `model ${id} is served by ${serving.map((d) => `deployment ${d.id} (${d.name})`).join(', ')}; undeploy it or swap its model first`,
          extensions: { deployments: serving.map((d) => d.id) },
        });
      }
      await tx.model.update({ where: { id }, data: { status: 'DELETED' } });
    });
    await this.store.deletePrefix(model.artifactPrefix);
  }
}
