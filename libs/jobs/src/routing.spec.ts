import { z } from 'zod';
import type { JobDefinition, QueueClass } from '@modelsmith/contracts';
import { chooseQueue, GpuWorkerProbe } from './routing';

const def = (queues: QueueClass[]): JobDefinition => ({
  name: 'x',
  version: 1,
  payload: z.object({}),
  inputs: z.object({}),
  queues,
  kind: 'NOOP',
});
const both = def(['cpu', 'gpu']);
const cpuOnly = def(['cpu']);
const gpuOnly = def(['gpu']);

describe('chooseQueue', () => {
  it('takes the gpu queue for auto only while a GPU worker is present', () => {
    expect(chooseQueue(both, 'auto', true)).toBe('gpu');
    expect(chooseQueue(both, 'auto', false)).toBe('cpu');
    expect(chooseQueue(cpuOnly, 'auto', true)).toBe('cpu');
    expect(chooseQueue(gpuOnly, 'auto', false)).toBe('gpu');
  });

  it('honours an explicit accelerator the job supports, and refuses one it does not', () => {
    expect(chooseQueue(both, 'gpu', false)).toBe('gpu');
    expect(chooseQueue(both, 'cpu', true)).toBe('cpu');
    expect(() => chooseQueue(cpuOnly, 'gpu', true)).toThrow(/cannot run on a GPU worker/);
    expect(() => chooseQueue(gpuOnly, 'cpu', true)).toThrow(/cannot run on a CPU worker/);
  });
});

describe('GpuWorkerProbe', () => {
  it('caches the answer and treats an unreachable Redis as no GPU', async () => {
    let calls = 0;
    const probe = new GpuWorkerProbe({ getWorkersCount: async () => ++calls }, 60_000);
    expect(await probe.present()).toBe(true);
    expect(await probe.present()).toBe(true);
    expect(calls).toBe(1);
    const down = new GpuWorkerProbe({ getWorkersCount: () => Promise.reject(new Error('ECONNREFUSED')) });
    expect(await down.present()).toBe(false);
    expect(await new GpuWorkerProbe(undefined).present()).toBe(false);
  });
});
