import { Inject, Injectable } from '@nestjs/common';
import type { Job } from '@modelsmith/db';
import {
  LABEL_QUALITY_FILE,
  labelQualityFileSchema,
  trainingBudgetSchema,
  trainingOptionsSchema,
  TRAINING_MODES,
} from '@modelsmith/contracts';
import {
  countClasses,
  deriveIndex,
  INDEX_KEY,
  IndexEditError,
  REPORT_KEY,
  type ImageShardIndex,
  type ShardIndex,
} from '@modelsmith/datasets';
import {
  DatasetVersionStore,
  MIN_TRAIN_IMAGES_PER_CLASS,
  ModelStore,
  type TypedDatasetVersion,
} from '@modelsmith/jobs';
import { keys, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';
import { notFound, ProblemError } from '@modelsmith/http';
import { TrainingJobsService } from '../training/training-jobs.service';
import { cleanEdits, type KeptSuspect, type SampleInfo, type SuspectRef } from './clean-edits';
import type { CleanModelDto } from './dto/clean-model.dto';

/** Each sample's class name and split, and the training samples per class, of an image index. */
function sampleInfo(index: ImageShardIndex): {
  samples: Map<string, SampleInfo>;
  trainCounts: Map<string, number>;
} {
  const samples = new Map<string, SampleInfo>();
  const trainCounts = new Map<string, number>(index.labels.map((l) => [l, 0]));
  for (const s of index.samples) {
    const label = s.label === null ? null : (index.labels[s.label] ?? null);
    const train = s.split === 'train';
    samples.set(s.hash, { label, train });
    if (train && label !== null) trainCounts.set(label, (trainCounts.get(label) ?? 0) + 1);
  }
  return { samples, trainCounts };
}

const unprocessable = (reason: string, detail: string, field?: string) =>
  new ProblemError({
    status: 422,
    code: 'UNPROCESSABLE',
    title: 'Clean request rejected',
    detail,
    extensions: { reason, ...(field ? { field } : {}) },
  });

export interface CleanResult {
  datasetVersion: TypedDatasetVersion;
  removed: number;
  relabeled: number;
  /** Suspects left as they are: acting on them would take their class below the training minimum. */
  kept: KeptSuspect[];
  job: Job | null;
}

/**
 * `POST /v1/models/:id/clean`: a new version of the model's dataset version without its suspected
 * mislabeled training samples (or the ones the client names) and with the client's label fixes,
 * then a training job on it. The version is derived from the index alone (shards are shared, no
 * pixel is copied), READY at once, with the parent version as `parentVersionId`.
 */
@Injectable()
export class CleanModelService {
  constructor(
    private readonly models: ModelStore,
    private readonly versions: DatasetVersionStore,
    private readonly training: TrainingJobsService,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  async clean(tenantId: string, modelId: string, body: CleanModelDto): Promise<CleanResult> {
    const model = await this.models.getReadyWithLineage(tenantId, modelId);
    if (!model) throw notFound('model', modelId);
    const parentId = model.datasetVersionId;
    const parent = parentId ? await this.versions.get(tenantId, parentId) : null;
    if (!parent || parent.status !== 'READY' || !parent.shardPrefix)
      throw unprocessable(
        'DATASET_VERSION_UNAVAILABLE',
        "the model's dataset version is gone or not READY; it cannot be cleaned",
      );
    const index = await this.readIndex(parent.shardPrefix);

    const relabelSuspected = body.relabelSuspected ?? false;
    const removeSuspected =
      body.removeSuspected ?? (body.remove === undefined && body.relabel === undefined && !relabelSuspected);
    const suspects =
      removeSuspected || relabelSuspected
        ? (await this.suspects(tenantId, modelId, model.artifactPrefix)).slice(0, body.maxSuspects)
        : [];
    const clientRelabel = new Map<string, string>();
    for (const r of body.relabel ?? []) {
      if (clientRelabel.has(r.sampleId))
        throw unprocessable('DUPLICATE_SAMPLE', `sample ${r.sampleId} is relabeled twice`, 'relabel');
      clientRelabel.set(r.sampleId, r.label);
    }
    const { remove, relabel, kept } = cleanEdits({
      suspects,
      removeSuspected,
      relabelSuspected,
      remove: body.remove ?? [],
      relabel: clientRelabel,
      ...sampleInfo(index),
      minTrainPerClass: MIN_TRAIN_IMAGES_PER_CLASS,
    });
    if (remove.size === 0 && relabel.size === 0)
      throw unprocessable(
        'NOTHING_TO_CLEAN',
        kept.length > 0
          ? `no sample to remove or relabel: each of the ${kept.length} suspects would take its class below ${MIN_TRAIN_IMAGES_PER_CLASS} training images (${kept[0].reason})`
          : suspects.length > 0 && relabelSuspected && !removeSuspected
            ? 'no sample to relabel: none of the suspects has a held-out label (the model was scored by AUM alone); use removeSuspected or name samples in relabel'
            : 'no sample to remove or relabel (the model lists no suspect)',
        'relabelSuspected',
      );

    let derived: ReturnType<typeof deriveIndex>;
    try {
      derived = deriveIndex(index, { remove, relabel });
    } catch (e) {
      if (e instanceof IndexEditError) throw unprocessable('UNKNOWN_SAMPLE_OR_LABEL', e.message, e.field);
      throw e;
    }

    const version = await this.createVersion(tenantId, parent, derived.index, {
      fromModelId: modelId,
      removed: derived.removed,
      relabeled: derived.relabeled,
    });
    if (body.retrain === false)
      return {
        datasetVersion: version,
        removed: derived.removed,
        relabeled: derived.relabeled,
        kept,
        job: null,
      };
    const job = model.job;
    const mode = TRAINING_MODES.find((m) => m === (body.mode ?? job?.mode)) ?? 'balanced';
    const budget = trainingBudgetSchema.safeParse(body.budget ?? job?.budget ?? {});
    const options = trainingOptionsSchema.safeParse(job?.options ?? {});
    const trainJob = await this.training
      .create(tenantId, {
        datasetVersionId: version.id,
        mode,
        ...(budget.success ? { budget: budget.data } : {}),
        ...(options.success ? { options: options.data } : {}),
      })
      .catch((e: unknown) => {
        // The cleaned version exists and stays: a rejected retrain says which one it is.
        if (!(e instanceof ProblemError) || e.status !== 422) throw e;
        throw new ProblemError({
          status: e.status,
          code: e.code,
          title: e.title,
          detail: `${e.detail ?? e.title} (the cleaned dataset version ${version.version}, ${version.id}, is kept; it was not retrained)`,
          extensions: { ...e.extensions, datasetVersionId: version.id },
        });
      });
    return {
      datasetVersion: version,
      removed: derived.removed,
      relabeled: derived.relabeled,
      kept,
      job: trainJob,
    };
  }

  private async readIndex(shardPrefix: string): Promise<ImageShardIndex> {
    const raw = await this.store.getBytes(keys.within(shardPrefix, INDEX_KEY));
    const index = JSON.parse(raw.toString('utf8')) as ShardIndex;
    if (index.kind !== 'image')
      throw unprocessable('TASK_MISMATCH', 'only image datasets can be cleaned today');
    return index;
  }

  /** The model's suspected mislabeled samples, most suspect first (none when training recorded none). */
  private async suspects(
    tenantId: string,
    modelId: string,
    artifactPrefix: string | null,
  ): Promise<SuspectRef[]> {
    const key = artifactPrefix
      ? keys.within(artifactPrefix, LABEL_QUALITY_FILE)
      : keys.modelFile(tenantId, modelId, LABEL_QUALITY_FILE);
    if (!(await this.store.stat(key)))
      throw unprocessable(
        'NO_LABEL_QUALITY',
        'this model has no training-dynamics report (trained before it existed); name samples in `remove`/`relabel`',
        'removeSuspected',
      );
    const parsed = labelQualityFileSchema.safeParse(
      JSON.parse((await this.store.getBytes(key)).toString('utf8')),
    );
    if (!parsed.success)
      throw unprocessable(
        'NO_LABEL_QUALITY',
        "the model's label-quality report is unreadable",
        'removeSuspected',
      );
    return parsed.data.suspects.map((s) => ({
      sampleId: s.sampleId,
      ...(s.heldOutLabel !== undefined ? { heldOutLabel: s.heldOutLabel } : {}),
    }));
  }

  /** The derived version: its index and report under its own prefix, then READY with its stats. */
  private async createVersion(
    tenantId: string,
    parent: TypedDatasetVersion,
    index: ImageShardIndex,
    derivedFrom: { fromModelId: string; removed: number; relabeled: number },
  ): Promise<TypedDatasetVersion> {
    const created = await this.versions.createNext(tenantId, parent.datasetId, {
      splitSeed: parent.splitSeed,
      parentVersionId: parent.id,
    });
    if ('parentMissing' in created) throw notFound('dataset version', parent.id);
    const prefix = keys.datasetIngestedPrefix(tenantId, parent.datasetId, created.id);
    try {
      const { classes, splits } = countClasses(index);
      const counts = classes.map((c) => c.count).filter((n) => n > 0);
      const report = {
        ...(parent.report ?? {}),
        classes,
        splits,
        totals: {
          ...((parent.report as { totals?: object } | null)?.totals ?? {}),
          samples: index.samples.length,
        },
        imbalanceRatio: counts.length ? Math.max(...counts) / Math.min(...counts) : null,
        derived: { parentVersionId: parent.id, ...derivedFrom },
      };
      await this.store.putBytes(
        keys.within(prefix, REPORT_KEY),
        Buffer.from(JSON.stringify(report)),
        'application/json',
      );
      await this.store.putBytes(
        keys.within(prefix, INDEX_KEY),
        Buffer.from(JSON.stringify(index)),
        'application/json',
      );
      await this.versions.markReady(tenantId, created.id, {
        format: parent.format ?? 'derived',
        shardPrefix: prefix,
        stats: {
          ...(parent.stats ?? {}),
          samples: index.samples.length,
          classes: classes.map((c) => ({ name: c.name, count: c.count, splits: c.splits })),
          splits,
          imbalanceRatio: report.imbalanceRatio,
          previews: 0,
        },
        report,
      });
    } catch (e) {
      await this.store
        .deletePrefix(keys.datasetVersion(tenantId, parent.datasetId, created.id))
        .catch(() => 0);
      await this.versions.delete(tenantId, created.id).catch(() => undefined);
      throw e;
    }
    const ready = await this.versions.get(tenantId, created.id);
    if (!ready) throw notFound('dataset version', created.id);
    return ready;
  }
}
