import type { Queue } from 'bullmq';
import type { JobDefinition, QueueClass } from '@modelsmith/contracts';
import { UnroutableJobError, type QueueMap } from './dispatcher';

/** What a job asks for: a CPU worker, a GPU worker, or a GPU when one is present. */
export const ACCELERATORS = ['cpu', 'gpu', 'auto'] as const;
export type Accelerator = (typeof ACCELERATORS)[number];

/**
 * Picks the queue for a job. `cpu`/`gpu` are honoured if the job may run there (a `gpu` job waits for a
 * GPU worker if none is up); `auto` takes the GPU queue only while a GPU worker is present.
 */
export function chooseQueue(
  def: JobDefinition,
  accelerator: Accelerator,
  gpuWorkersPresent: boolean,
): QueueClass {
  const allowed = (q: QueueClass) => def.queues.includes(q);
  switch (accelerator) {
    case 'cpu':
    case 'gpu':
      if (!allowed(accelerator))
        throw new UnroutableJobError(`${def.name} cannot run on a ${accelerator.toUpperCase()} worker`);
      return accelerator;
    case 'auto':
      if (allowed('gpu') && (gpuWorkersPresent || !allowed('cpu'))) return 'gpu';
      if (allowed('cpu')) return 'cpu';
      throw new UnroutableJobError(`${def.name} has no queue`);
  }
}

/** Live GPU workers, from the BullMQ worker connections registered on the gpu queue (cached briefly). */
export class GpuWorkerProbe {
  private cached?: { at: number; present: boolean };

  constructor(
    private readonly gpuQueue: Pick<Queue, 'getWorkersCount'> | undefined,
    private readonly cacheMs = 5_000,
  ) {}

  async present(): Promise<boolean> {
    if (!this.gpuQueue) return false;
    if (this.cached && Date.now() - this.cached.at < this.cacheMs) return this.cached.present;
    let present = false;
    try {
      present = (await this.gpuQueue.getWorkersCount()) > 0;
    } catch {
      present = false; // Redis unreachable: route to CPU; the row is written anyway and the reconciler enqueues it.
    }
    this.cached = { at: Date.now(), present };
    return present;
  }
}

/** Routes jobs to the cpu or gpu queue by their needs and the workers present. */
export class JobRouter {
  private readonly probe: GpuWorkerProbe;

  constructor(queues: QueueMap, cacheMs?: number) {
    this.probe = new GpuWorkerProbe(queues.gpu, cacheMs);
  }

  async route(def: JobDefinition, accelerator: Accelerator = 'auto'): Promise<QueueClass> {
    const needsProbe = accelerator === 'auto' && def.queues.includes('gpu') && def.queues.includes('cpu');
    return chooseQueue(def, accelerator, needsProbe ? await this.probe.present() : false);
  }
}
