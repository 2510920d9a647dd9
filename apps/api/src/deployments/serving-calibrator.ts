import { Inject, Injectable, Logger } from '@nestjs/common';
import { mlBackendOptions, type AppConfig } from '@modelsmith/config';
import { APP_CONFIG } from '@modelsmith/config/nest';
import { ProblemError } from '@modelsmith/http';
import { objectBytesReader, type ObjectStore } from '@modelsmith/storage';
import { OBJECT_STORE } from '@modelsmith/storage/nest';

export interface ServingCalibration {
  backend: string;
  passes: Array<{ size: number; passMs: number; imagesPerSecond: number }>;
  /** The request thread's work per request of one image (measureRequestCost), ms. */
  requestMs: number;
  measuredAt: string;
}

/** Calibrations waiting or running at once; more answer 503 (each runs forward passes for seconds). */
const MAX_PENDING = 2;
/** Time the batch-size sweep may take (calibrateBatches' budget). */
const BUDGET_MS = 4_000;
/** Time the request-cost measurement may take. */
const REQUEST_BUDGET_MS = 1_000;

/**
 * Measures a model's forward-pass cost per batch size (1, 2, 4, ... up to SERVING_MAX_BATCH_SIZE) the
 * way the serving app runs it: a fresh inference thread of libs/serving on the same backend settings
 * (ML_BACKEND, ML_NATIVE_BLAS), the model built with batch norms folded, then calibrateBatches' sweep
 * (one untimed pass per size, the median of the timed ones kept), and the request thread's work per
 * request (measureRequestCost: body, base64, decoding and fitting an image of the model's input
 * size), which the serving search models as a serial stage per replica. It runs in the API process at tune
 * time, so on a cluster it measures the API's machine: schedule both on the same kind of node.
 */
@Injectable()
export class ServingCalibrator {
  private readonly logger = new Logger('ServingCalibrator');
  private chain: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
  ) {}

  calibrate(prefix: string): Promise<ServingCalibration> {
    if (this.pending >= MAX_PENDING)
      throw new ProblemError({
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
        title: 'Calibration busy',
        detail: 'other deployments are being calibrated; retry in a few seconds',
        headers: { 'Retry-After': '5' },
      });
    this.pending++;
    // One at a time: two sweeps at once would time each other.
    const run = this.chain.then(() => this.run(prefix));
    this.chain = run.catch(() => undefined);
    return run.finally(() => this.pending--);
  }

  private async run(prefix: string): Promise<ServingCalibration> {
    // Loaded here, not at the top: the API's module graph stays free of TensorFlow.js
    // (apps/api/src/training/no-tensorflow.spec.ts); only a tune request pulls these in.
    const [{ readExportedArtifacts }, { InferenceThread, measureRequestCost }] = await Promise.all([
      import('@modelsmith/ml'),
      import('@modelsmith/serving'),
    ]);
    const files = await readExportedArtifacts(objectBytesReader(this.store), prefix);
    const thread = await InferenceThread.start({
      backend: this.config.ML_BACKEND,
      nativeBlas: mlBackendOptions(this.config).nativeBlas,
    });
    try {
      const loaded = await thread.load(1, files, {
        foldBatchNorm: true,
        calibrateUpTo: this.config.SERVING_MAX_BATCH_SIZE,
        calibrateBudgetMs: BUDGET_MS,
      });
      if (!loaded.calibration) throw new Error('the inference thread returned no calibration');
      const passes = loaded.calibration.samples.map((s) => ({
        size: s.size,
        passMs: s.passMs,
        imagesPerSecond: s.imagesPerSecond,
      }));
      await thread.terminate();
      // After the thread has stopped: its passes do not share the core with the timed requests.
      const { requestMs } = await measureRequestCost(files.manifest, { budgetMs: REQUEST_BUDGET_MS });
      this.logger.log(
        `calibrated ${prefix} on ${thread.backend}: ${passes.map((p) => `${p.size}:${p.passMs}ms`).join(' ')}, request ${requestMs}ms`,
      );
      return { backend: thread.backend, passes, requestMs, measuredAt: new Date().toISOString() };
    } finally {
      await thread.terminate();
    }
  }
}
