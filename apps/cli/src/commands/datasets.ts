import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { uploadDatasetFile, watchJob, type Schemas, type UploadState } from '@modelsmith/sdk';
import { configDir } from '../config';
import { contextOf, positiveInt, UsageError } from '../context';
import { table } from '../output';
import { jobExitCode, followWithBar } from './jobs';

const TASKS = ['image-classification', 'text-classification', 'tabular-classification', 'tabular-regression'];

interface UploadFlags {
  format?: string;
  imageSize?: number;
  channels?: number;
  fit?: string;
  target?: string;
  textColumn?: string;
  labelColumn?: string;
  parent?: string;
  wait?: boolean;
  restart?: boolean;
}

export function registerDatasets(program: Command): void {
  const datasets = program.command('datasets').description('create, upload to and inspect datasets');

  datasets
    .command('list')
    .description('datasets, newest first')
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 50)
    .action(async (o: { limit: number }, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      const page = (await c.ok(c.api.GET('/v1/datasets', { params: { query: { limit: o.limit } } }))) as {
        items: Record<string, unknown>[];
      };
      out.result(page, (p: typeof page) => table(p.items, ['id', 'name', 'task', 'createdAt']));
    });

  datasets
    .command('create <name>')
    .description('a new, empty dataset')
    .option('--task <task>', `one of ${TASKS.join(', ')}`, 'image-classification')
    .option('--description <text>')
    .action(async (name: string, o: { task: string; description?: string }, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      const ds = (await c.ok(
        c.api.POST('/v1/datasets', {
          body: {
            name,
            task: o.task as Schemas['CreateDatasetDto']['task'],
            ...(o.description ? { description: o.description } : {}),
          },
        }),
      )) as { id: string; name: string };
      out.result(ds, (d: typeof ds) => `created dataset ${d.name}: ${d.id}`);
    });

  datasets
    .command('get <datasetId>')
    .description('a dataset and its versions')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      out.result(await c.ok(c.api.GET('/v1/datasets/{id}', { params: { path: { id } } })));
    });

  datasets
    .command('report <datasetId> <versionId>')
    .description("a version's ingestion report: classes, splits, warnings")
    .action(async (id: string, versionId: string, _o: unknown, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      out.result(
        await c.ok(
          c.api.GET('/v1/datasets/{id}/versions/{versionId}/report', { params: { path: { id, versionId } } }),
        ),
      );
    });

  datasets
    .command('upload <datasetId> <file>')
    .description(
      'upload an archive or CSV/JSONL as a new version (resumable: run the same command again after an interruption)',
    )
    .option('--format <format>', 'image-folder, csv, jsonl, … (detected when omitted)')
    .option('--image-size <px>', 'cache images at this size', positiveInt('--image-size'))
    .option('--channels <n>', '1 or 3', positiveInt('--channels'))
    .option('--fit <policy>', 'cover, contain or fill')
    .option('--target <column>', 'tabular: the column to predict')
    .option('--text-column <column>', 'text: the column holding the text')
    .option('--label-column <column>', 'text: the column holding the label')
    .option('--parent <versionId>', 'extend this READY version')
    .option('--wait', 'wait for ingestion to finish; exit code from its outcome')
    .option('--restart', 'discard a saved interrupted upload of this file and start over')
    .action(async (datasetId: string, file: string, o: UploadFlags, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      const path = resolve(file);
      const stateFile = join(
        configDir(),
        'uploads',
        `${createHash('sha256').update(`${c.baseUrl}\n${datasetId}\n${path}`).digest('hex').slice(0, 32)}.json`,
      );
      const resume = o.restart ? undefined : await readState(stateFile);
      if (resume) out.note(`resuming upload ${resume.uploadId}`);
      const options = ingestionOptions(o);
      let bar: ReturnType<typeof out.bar> | undefined;
      const done = await uploadDatasetFile(c, datasetId, path, {
        ...(Object.keys(options).length ? { options } : {}),
        ...(resume ? { resume } : {}),
        onState: async (s: UploadState) => {
          await mkdir(join(configDir(), 'uploads'), { recursive: true, mode: 0o700 });
          await writeFile(stateFile, JSON.stringify(s), { mode: 0o600 });
        },
        onProgress: (sent, total) => {
          bar ??= out.bar('upload', total, 'bytes');
          bar.update(sent);
        },
      });
      bar?.stop();
      await rm(stateFile, { force: true });
      out.note(`uploaded: version ${done.version.version} (${done.version.id}), ingestion job ${done.jobId}`);
      if (!o.wait) return out.result(done, () => done.version.id);
      const job = await followWithBar(c, out, done.jobId, 'ingest');
      const version = await c.ok(
        c.api.GET('/v1/datasets/{id}/versions/{versionId}', {
          params: { path: { id: datasetId, versionId: done.version.id } },
        }),
      );
      out.result({ version, job }, () =>
        job.status === 'SUCCEEDED'
          ? `version ${done.version.id} is ${version.status}`
          : `ingestion ${job.status}: ${job.failureCode ?? ''} ${job.failureReason ?? ''}`.trim(),
      );
      process.exitCode = jobExitCode(job);
    });

  datasets
    .command('wait <jobId>')
    .description('follow an ingestion job until it ends')
    .action(async (jobId: string, _o: unknown, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      const job = await watchJob(c, jobId);
      out.result(job, () => `${job.status}`);
      process.exitCode = jobExitCode(job);
    });
}

function ingestionOptions(o: UploadFlags): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  if (o.format) r.format = o.format;
  if (o.imageSize) r.imageSize = o.imageSize;
  if (o.channels) {
    if (o.channels !== 1 && o.channels !== 3) throw new UsageError('--channels must be 1 or 3');
    r.channels = o.channels;
  }
  if (o.fit) r.fit = o.fit;
  if (o.target) r.target = o.target;
  if (o.textColumn) r.textColumn = o.textColumn;
  if (o.labelColumn) r.labelColumn = o.labelColumn;
  if (o.parent) r.parentVersionId = o.parent;
  return r;
}

async function readState(file: string): Promise<UploadState | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as UploadState;
  } catch {
    return undefined;
  }
}
