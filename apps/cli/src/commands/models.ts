import { openAsBlob } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { downloadModel, isImageFile, predictFiles, type Prediction } from '@modelsmith/sdk';
import { contextOf, positiveInt, UsageError } from '../context';
import { table } from '../output';
import { followWithBar, jobExitCode, describeEnd } from './jobs';

/** Images per predict request: serving micro-batches them, and a request stays small. */
const PREDICT_CHUNK = 16;

export function registerModels(program: Command): void {
  const models = program.command('models').description('list, inspect and download trained models');
  models
    .command('list')
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 20)
    .action(async (o: { limit: number }, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      const page = (await c.ok(c.api.GET('/v1/models', { params: { query: { limit: o.limit } } }))) as {
        items: {
          id: string;
          name: string;
          backbone: string;
          metrics?: { accuracy?: number };
          createdAt: string;
        }[];
      };
      out.result(page, (p: typeof page) =>
        table(
          p.items.map((m) => ({ ...m, accuracy: m.metrics?.accuracy?.toFixed(3) })),
          ['id', 'name', 'backbone', 'accuracy', 'createdAt'],
        ),
      );
    });
  models
    .command('get <modelId>')
    .description('a model with its evaluation report')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      out.result(await c.ok(c.api.GET('/v1/models/{id}', { params: { path: { id } } })));
    });
  models
    .command('download <modelId>')
    .description('the model zip: tfjs model + weights, manifest, evaluation report, curves')
    .option('-o, --output <file>', 'where to write it (default: model-<id>.zip)')
    .action(async (id: string, o: { output?: string }, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      const dest = resolve(o.output ?? `model-${id}.zip`);
      let bar: ReturnType<typeof out.bar> | undefined;
      const link = await downloadModel(c, id, dest, (bytes, total) => {
        bar ??= out.bar('download', total, 'bytes');
        bar.update(bytes);
      });
      bar?.stop();
      out.result({ file: dest, sizeBytes: link.sizeBytes }, () => `saved ${dest}`);
    });

  program
    .command('deploy <modelId>')
    .description('serve a model: prints the deployment and its predict URL')
    .option('--name <name>', 'deployment name')
    .option('--top-k <k>', 'default number of labels per prediction', positiveInt('--top-k'))
    .action(async (modelId: string, o: { name?: string; topK?: number }, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      const d = (await c.ok(
        c.api.POST('/v1/deployments', {
          body: {
            modelId,
            ...(o.name ? { name: o.name } : {}),
            ...(o.topK ? { config: { topK: o.topK } } : {}),
          },
        }),
      )) as { id: string; predictUrl: string; status: string };
      out.result(d, () => `deployment ${d.id} ${d.status}\npredict: ${d.predictUrl}`);
    });

  program
    .command('predict <deploymentId> <paths...>')
    .description('predict image files, or every image in folders, with a deployment')
    .option('--top-k <k>', 'labels per prediction', positiveInt('--top-k'))
    .action(async (deploymentId: string, paths: string[], o: { topK?: number }, cmd: Command) => {
      const { out, client } = contextOf(cmd);
      const c = await client();
      const files = await imageFiles(paths);
      if (!files.length) throw new UsageError('no image files found in the given paths');
      const d = (await c.ok(
        c.api.GET('/v1/deployments/{id}', { params: { path: { id: deploymentId } } }),
      )) as {
        predictUrl: string;
      };
      const results: { file: string; prediction: Prediction }[] = [];
      for (let i = 0; i < files.length; i += PREDICT_CHUNK) {
        const chunk = files.slice(i, i + PREDICT_CHUNK);
        const answer = await predictFiles(c, d.predictUrl, chunk, o.topK);
        chunk.forEach((file, k) => results.push({ file, prediction: answer.predictions[k] }));
      }
      out.result(results, (rs: typeof results) =>
        table(
          rs.map((r) => ({ file: r.file, label: r.prediction.label, score: r.prediction.score.toFixed(3) })),
          ['file', 'label', 'score'],
        ),
      );
    });

  program
    .command('batch-predict <modelId> <archive>')
    .description('predict every image of a zip or tar.gz as a job; --watch waits and prints the output URL')
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--top-k <k>', 'labels per image', positiveInt('--top-k'))
    .option('--watch', 'wait for the job; exit code from its outcome')
    .action(
      async (
        modelId: string,
        archive: string,
        o: { format: string; topK?: number; watch?: boolean },
        cmd: Command,
      ) => {
        const { out, client } = contextOf(cmd);
        const c = await client();
        const path = resolve(archive);
        // Fields before the file, as the route requires; the file is read from disk as it is sent.
        const form = new FormData();
        form.append('format', o.format);
        if (o.topK) form.append('topK', String(o.topK));
        form.append('file', await openAsBlob(path), basename(path));
        const res = await c.raw(`${c.baseUrl}/v1/models/${encodeURIComponent(modelId)}/batch-predictions`, {
          method: 'POST',
          body: form,
        });
        const job = (await res.json()) as { id: string };
        out.note(`batch prediction job ${job.id}`);
        if (!o.watch) return out.result(job, () => job.id);
        const end = await followWithBar(c, out, job.id, 'predict');
        if (end.status !== 'SUCCEEDED') {
          out.result(end, () => describeEnd(end));
          process.exitCode = jobExitCode(end);
          return;
        }
        const output = await c.ok(c.api.GET('/v1/jobs/{id}/output', { params: { path: { id: job.id } } }));
        out.result(
          { job: end, output },
          () => `${describeEnd(end)}\noutput: ${(output as { url?: string }).url ?? ''}`,
        );
      },
    );
}

/** Files named, plus the images directly or deeply inside folders named, in a stable order. */
export async function imageFiles(paths: string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (p: string): Promise<void> => {
    const s = await stat(p);
    if (s.isDirectory()) {
      for (const e of (await readdir(p)).sort()) await walk(join(p, e));
    } else if (s.isFile() && isImageFile(p)) found.push(p);
  };
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (!s) throw new UsageError(`${p}: no such file or folder`);
    if (s.isFile() && !isImageFile(p))
      throw new UsageError(`${p}: not an image (jpg, png, webp, gif, avif, tiff)`);
    await walk(p);
  }
  return found;
}
