import { DatasetVersionStore, MIN_TRAIN_IMAGES_PER_CLASS } from './dataset-version-store';
import { ModelStore, type TrainedModel } from './model-store';
import { StoredRowInvalidError } from './stored-json';
import { useJobsTestbed } from '../../../../test/support/jobs-testbed';

jest.setTimeout(60_000);

describe('DatasetVersionStore and ModelStore against Postgres (row-level security)', () => {
  const bed = useJobsTestbed();
  let versions: DatasetVersionStore;
  let models: ModelStore;

  beforeAll(() => {
    versions = new DatasetVersionStore(bed.app);
    models = new ModelStore(bed.app);
  });

  const classes = (train: number[]) =>
    train.map((n, i) => ({ name: `c${i}`, count: n + 2, splits: { train: n, validation: 1, test: 1 } }));

  async function version(
    tenantId: string,
    over: {
      task?: 'IMAGE_CLASSIFICATION' | 'TABULAR_REGRESSION';
      status?: 'READY' | 'INGESTING';
      train?: number[];
    } = {},
  ) {
    const ready = (over.status ?? 'READY') === 'READY';
    return bed.datasetVersion(
      tenantId,
      {
        status: over.status ?? 'READY',
        shardPrefix: ready ? 'tenants/x/ingested/' : null,
        options: { format: 'image-folder', image: { size: 32, channels: 3 } },
        stats: {
          kind: 'image',
          samples: 40,
          classes: classes(over.train ?? [MIN_TRAIN_IMAGES_PER_CLASS, 9]),
        },
        report: { kind: 'image', image: { cache: { fit: 'contain' } }, warnings: [] },
      },
      { name: 'photos', task: over.task ?? 'IMAGE_CLASSIFICATION' },
    );
  }

  it('reads a version with typed JSON columns, and only within its tenant', async () => {
    const t = await bed.tenant();
    const other = await bed.tenant();
    const v = await version(t.id);
    const read = await versions.get(t.id, v.id);
    expect(read?.options).toEqual({ format: 'image-folder', image: { size: 32, channels: 3 } });
    expect(read?.stats?.classes.map((c) => c.splits?.train)).toEqual([MIN_TRAIN_IMAGES_PER_CLASS, 9]);
    expect(read?.report?.image?.cache?.fit).toBe('contain');
    expect(read?.report).toMatchObject({ kind: 'image', warnings: [] }); // untyped parts kept as written
    expect(await versions.get(t.id, v.id, 'another-dataset')).toBeNull();
    expect(await versions.get(other.id, v.id)).toBeNull();
  });

  it('checks readiness for training in one place: found, task, READY, enough images per class', async () => {
    const t = await bed.tenant();
    const ok = await version(t.id);
    const check = await versions.checkTrainable(t.id, ok.id);
    expect(check.ok && check.version.dataset).toEqual({ name: 'photos', task: 'IMAGE_CLASSIFICATION' });
    expect(await versions.checkTrainable(t.id, 'missing')).toEqual({ ok: false, reason: 'NOT_FOUND' });
    expect(await versions.checkTrainable((await bed.tenant()).id, ok.id)).toEqual({
      ok: false,
      reason: 'NOT_FOUND',
    });
    expect(
      await versions.checkTrainable(t.id, (await version(t.id, { task: 'TABULAR_REGRESSION' })).id),
    ).toMatchObject({ ok: false, reason: 'TASK_MISMATCH', task: 'TABULAR_REGRESSION' });
    expect(
      await versions.checkTrainable(t.id, (await version(t.id, { status: 'INGESTING' })).id),
    ).toMatchObject({ ok: false, reason: 'NOT_READY' });
    expect(
      await versions.checkTrainable(
        t.id,
        (await version(t.id, { train: [MIN_TRAIN_IMAGES_PER_CLASS - 1, 50] })).id,
      ),
    ).toMatchObject({
      ok: false,
      reason: 'TOO_FEW_IMAGES',
      classes: [{ name: 'c0', train: MIN_TRAIN_IMAGES_PER_CLASS - 1 }],
    });
    const deleted = await version(t.id);
    await bed.system.dataset.update({ where: { id: deleted.datasetId }, data: { deletedAt: new Date() } });
    expect(await versions.checkTrainable(t.id, deleted.id)).toEqual({ ok: false, reason: 'NOT_FOUND' });
  });

  it('moves a version through ingestion; progress never relabels a version that ended', async () => {
    const t = await bed.tenant();
    const v = await version(t.id, { status: 'INGESTING' });
    await versions.ingestProgress(t.id, v.id, 'scanning', 40);
    expect(await versions.get(t.id, v.id)).toMatchObject({ stage: 'scanning', percent: 40 });
    await versions.markReady(t.id, v.id, {
      format: 'image-folder',
      shardPrefix: 'p/',
      stats: { classes: [{ name: 'a', count: 3 }] },
      report: { kind: 'image' },
    });
    await versions.ingestProgress(t.id, v.id, 'late', 10);
    expect(await versions.get(t.id, v.id)).toMatchObject({
      status: 'READY',
      stage: 'ready',
      percent: 100,
      shardPrefix: 'p/',
      stats: { classes: [{ name: 'a', count: 3 }] },
    });
  });

  it('refuses to hand out a JSON column that does not have its shape', async () => {
    const t = await bed.tenant();
    const v = await version(t.id);
    await bed.system.datasetVersion.update({ where: { id: v.id }, data: { stats: { classes: 'many' } } });
    await expect(versions.get(t.id, v.id)).rejects.toThrow(StoredRowInvalidError);
  });

  const trained = (id: string, datasetVersionId: string, accuracy: number): TrainedModel => ({
    id,
    jobId: id,
    datasetVersionId,
    name: 'photos (small_cnn_m)',
    backbone: 'small_cnn_m',
    artifactPrefix: `tenants/t/models/${id}/`,
    manifest: {
      backboneId: 'small_cnn_m',
      metrics: { accuracy },
      files: [{ path: 'model.json', size: 10 }],
      task: 'image-classification',
    },
    report: { accuracy, numSamples: 20, perClass: [] },
    recipe: { backboneId: 'small_cnn_m', phase: 'head', final: false },
    sizeBytes: 10,
  });

  it("upserts a training job's model (id = job id), reads it typed, and resolves a deployment to it", async () => {
    const t = await bed.tenant();
    const v = await version(t.id);
    const job = await bed.system.job.create({
      data: { tenantId: t.id, kind: 'TRAIN', datasetVersionId: v.id },
    });
    await models.saveTrained(t.id, trained(job.id, v.id, 0.5));
    const improved = await models.saveTrained(t.id, {
      ...trained(job.id, v.id, 0.8),
      recipe: { phase: 'finetune', final: true },
    });
    expect(await bed.system.model.count({ where: { jobId: job.id } })).toBe(1);
    expect(improved).toMatchObject({
      id: job.id,
      status: 'READY',
      metrics: { accuracy: 0.8 },
      recipe: { phase: 'finetune', final: true },
      sizeBytes: 10n,
    });
    const withLineage = await models.getReadyWithLineage(t.id, job.id);
    expect(withLineage?.job?.id).toBe(job.id);
    expect(withLineage?.datasetVersion).toEqual({ id: v.id, version: 1, datasetId: v.datasetId });
    expect(withLineage?.manifest?.files[0]).toMatchObject({ path: 'model.json', size: 10 });
    expect((await models.listReady(t.id, 10)).map((m) => m.id)).toEqual([job.id]);
    expect(await models.getReady((await bed.tenant()).id, job.id)).toBeNull();

    const d = await bed.system.deployment.create({
      data: { tenantId: t.id, modelId: job.id, name: 'd', config: { topK: 4 } },
    });
    expect(await models.deploymentTarget(t.id, d.id)).toMatchObject({
      id: d.id,
      active: true,
      topK: 4,
      model: { id: job.id, artifactPrefix: `tenants/t/models/${job.id}/` },
    });
    expect(await models.deploymentTarget((await bed.tenant()).id, d.id)).toBeNull();
    // A tuning applies to the model version it was made for only.
    const modelUpdatedAt = (await bed.system.model.findUniqueOrThrow({ where: { id: job.id } })).updatedAt;
    const tuning = { modelId: job.id, maxBatchSize: 8, maxBatchWaitMs: 2, replicas: 1 };
    await bed.system.deployment.update({
      where: { id: d.id },
      data: { tuning: { ...tuning, modelVersion: modelUpdatedAt.toISOString() } },
    });
    expect((await models.deploymentTarget(t.id, d.id))?.batching).toEqual({
      maxBatchSize: 8,
      maxBatchWaitMs: 2,
    });
    await bed.system.deployment.update({
      where: { id: d.id },
      data: { tuning: { ...tuning, modelVersion: new Date(0).toISOString() } },
    });
    expect((await models.deploymentTarget(t.id, d.id))?.batching).toBeNull();

    // Served: not deleted. Undeployed: deleted, and the deployment no longer answers.
    expect(await models.markDeleted(t.id, job.id)).toEqual({
      deleted: false,
      servedBy: [{ id: d.id, name: 'd' }],
    });
    await bed.system.deployment.update({ where: { id: d.id }, data: { status: 'INACTIVE' } });
    expect(await models.markDeleted(t.id, job.id)).toEqual({ deleted: true });
    expect(await models.getReady(t.id, job.id)).toBeNull();
    expect(await models.deploymentTarget(t.id, d.id)).toMatchObject({ active: false });
  });
});
