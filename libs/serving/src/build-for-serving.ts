import { buildExportedModel, foldBatchNorm, type ExportedArtifacts, type ExportedModel } from '@modelsmith/ml';

/** buildExportedModel, then (when asked) batch norms folded for inference. */
export async function buildForServing(files: ExportedArtifacts, fold: boolean): Promise<ExportedModel> {
  const exported = await buildExportedModel(files);
  if (!fold) return exported;
  try {
    const { model, folded } = await foldBatchNorm(exported.model);
    if (folded > 0) exported.model.dispose();
    return { model, manifest: exported.manifest };
  } catch (e) {
    exported.model.dispose();
    throw e;
  }
}
