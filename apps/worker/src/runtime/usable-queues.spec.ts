import type { BackendInfo, BackendName } from '@modelsmith/ml';
import { itIf } from '../../../../test/support/skip';
import { usableQueues } from './usable-queues';

const base = { ML_NATIVE_BLAS: 'auto', ML_BLAS_CORE: 'auto' } as const;
const gpuPackage = (() => {
  try {
    require.resolve('@tensorflow/tfjs-node-gpu');
    return true;
  } catch {
    return false;
  }
})();

const loads = (name: BackendName) => async (): Promise<BackendInfo> => ({
  name,
  kernelsRegistered: [],
  nativeBlas: null,
});

describe('usableQueues: a gpu worker without a GPU backend stops consuming the gpu queue', () => {
  it('keeps gpu where tfjs-node-gpu loaded', async () => {
    const r = await usableQueues(
      { ...base, WORKER_QUEUES: ['gpu'], ML_BACKEND: 'auto' },
      loads('tensorflow-gpu'),
    );
    expect(r).toEqual({ queues: ['gpu'] });
  });

  it('drops gpu (keeping cpu) and says why when the GPU backend did not load', async () => {
    const r = await usableQueues(
      { ...base, WORKER_QUEUES: ['cpu', 'gpu'], ML_BACKEND: 'auto' },
      loads('wasm'),
    );
    expect(r.queues).toEqual(['cpu']);
    expect(r.warning).toMatch(/gpu.*did not load \(got wasm.*not consuming the gpu queue; consuming cpu/);
  });

  it('leaves a gpu-only worker without queues (it then refuses to start)', async () => {
    const r = await usableQueues(
      { ...base, WORKER_QUEUES: ['gpu'], ML_BACKEND: 'tensorflow-gpu' },
      loads('tensorflow'),
    );
    expect(r.queues).toEqual([]);
    expect(r.warning).toMatch(/not consuming the gpu queue$/);
  });

  it('drops gpu when ML_BACKEND names a CPU backend, whatever loads', async () => {
    const r = await usableQueues(
      { ...base, WORKER_QUEUES: ['gpu', 'cpu'], ML_BACKEND: 'wasm' },
      loads('tensorflow-gpu'),
    );
    expect(r.queues).toEqual(['cpu']);
    expect(r.warning).toMatch(/ML_BACKEND=wasm is not a GPU backend/);
  });

  it('keeps gpu without looking with WORKER_GPU_CHECK=off (a CPU stand-in)', async () => {
    const init = jest.fn(loads('wasm'));
    const r = await usableQueues(
      { ...base, WORKER_QUEUES: ['gpu'], ML_BACKEND: 'auto', WORKER_GPU_CHECK: 'off' },
      init,
    );
    expect(r).toEqual({ queues: ['gpu'] });
    expect(init).not.toHaveBeenCalled();
  });

  it('does not touch the backend for a cpu-only worker', async () => {
    const init = jest.fn(loads('wasm'));
    expect(await usableQueues({ ...base, WORKER_QUEUES: ['cpu'], ML_BACKEND: 'auto' }, init)).toEqual({
      queues: ['cpu'],
    });
    expect(init).not.toHaveBeenCalled();
  });

  itIf(!gpuPackage, 'tfjs-node-gpu is installed here')(
    'where tfjs-node-gpu is not installed, drops the gpu queue with the real backend loader',
    async () => {
      const r = await usableQueues({ ...base, WORKER_QUEUES: ['cpu', 'gpu'], ML_BACKEND: 'auto' });
      expect(r.queues).toEqual(['cpu']);
      expect(r.warning).toMatch(/GPU backend did not load/);
    },
  );
});
