import { mlBackendOptions, type AppConfig } from '@modelsmith/config';
import { initBackend, type BackendInfo, type InitBackendOptions } from '@modelsmith/ml';

export interface UsableQueues {
  queues: AppConfig['WORKER_QUEUES'];
  /** Set when a configured queue is dropped: why, in one line (the worker logs it). */
  warning?: string;
}

/**
 * The queues this worker can really serve. A worker configured for the `gpu` queue whose GPU backend
 * (`@tensorflow/tfjs-node-gpu` with CUDA) does not load would otherwise take GPU jobs and train them on
 * its CPU, slowly and unnoticed: it drops that queue and says why. With no queue left, `queues` is
 * empty and the worker refuses to start.
 */
export async function usableQueues(
  cfg: Pick<AppConfig, 'WORKER_QUEUES' | 'ML_BACKEND' | 'ML_NATIVE_BLAS' | 'ML_BLAS_CORE'> &
    Partial<Pick<AppConfig, 'WORKER_GPU_CHECK'>>,
  init: (opts: InitBackendOptions) => Promise<BackendInfo> = initBackend,
): Promise<UsableQueues> {
  if (!cfg.WORKER_QUEUES.includes('gpu') || cfg.WORKER_GPU_CHECK === 'off')
    return { queues: cfg.WORKER_QUEUES };
  const gpuConfigured = cfg.ML_BACKEND === 'auto' || cfg.ML_BACKEND === 'tensorflow-gpu';
  let backend = 'not tried';
  if (gpuConfigured) {
    try {
      backend = (await init({ ...mlBackendOptions(cfg), prefer: 'tensorflow-gpu' })).name;
    } catch (e) {
      backend = `none (${e instanceof Error ? e.message : String(e)})`;
    }
  }
  if (backend === 'tensorflow-gpu') return { queues: cfg.WORKER_QUEUES };
  const queues = cfg.WORKER_QUEUES.filter((q) => q !== 'gpu');
  const why = gpuConfigured
    ? `the GPU backend did not load (got ${backend}: @tensorflow/tfjs-node-gpu missing, or no CUDA/GPU)`
    : `ML_BACKEND=${cfg.ML_BACKEND} is not a GPU backend`;
  return {
    queues,
    warning: `WORKER_QUEUES includes gpu but ${why}: not consuming the gpu queue${queues.length ? `; consuming ${queues.join(', ')}` : ''}`,
  };
}
