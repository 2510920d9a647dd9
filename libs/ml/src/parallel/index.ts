export { DataParallelTrainer, shardSizes } from './data-parallel-trainer';
export type { DataParallelOptions, StepResult } from './data-parallel-trainer';
export type { Batch, LossName, OptimizerSpec } from './protocol';
export { spawnModuleWorker } from './spawn-worker';
