export { DataParallelTrainer, shardSizes } from './data-parallel-trainer';
export type { DataParallelOptions, StepResult } from './data-parallel-trainer';
export type { Batch, LossName, OptimizerSpec } from './protocol';
export { spawnModuleWorker } from './spawn-worker';
export { ReplicaPool } from './replica-pool';
export type { ReplicaPoolOptions } from './replica-pool';
